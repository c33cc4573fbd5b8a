"""A fitted model's trees laid out to score customer-months and their
driver groups' variants in one pass over each row.

scikit-learn predicts tree by tree over all rows, walking each tree node by
node: about 37 ns a row and tree, most of it mispredicted branches, and the
reasons need the score again with each driver group set to the typical
customer's (up to 11 predictions a row). Here each row is scored once, by
QuickScorer's bitvectors (Lucchese et al., SIGIR 2015): a tree's leaves are
numbered left to right, each split holds the mask of the leaves left when the
row goes right, and a row's leaf is the leftmost leaf its masks leave. A
row's masks are kept per driver group, so the score with one group's
features set to the typical customer's is the other groups' masks and the
typical customer's for that group: no second walk.

The results are scikit-learn's to the last bit: the same leaves, their values
added in the same order from the same baseline, and scikit-learn's own
link to a probability (tests/test_churn_score.py holds them equal to
predict_proba on every row and variant)."""

from __future__ import annotations

import numba
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
# The lowest set bit's index by a de Bruijn sequence: a multiply and a lookup.
_DE_BRUIJN = np.uint64(0x03F7_9D71_B4CB_0A89)
_DE_BRUIJN_INDEX = np.zeros(64, dtype=np.int64)
for _bit in range(64):
    _DE_BRUIJN_INDEX[((1 << _bit) * int(_DE_BRUIJN) % (1 << 64)) >> 58] = _bit


class Forest:
    """The trees of `estimator` (a fitted binary HistGradientBoostingClassifier
    without categorical features; up to 64 leaves a tree), with the feature
    matrix's columns in driver groups (`groups`: each group's column
    positions; every column in one group) and the typical customer's value
    of each column (`typical`)."""

    def __init__(self, estimator: HistGradientBoostingClassifier, groups: list[list[int]], typical: np.ndarray):
        if estimator.n_trees_per_iteration_ != 1:
            raise ValueError("a Forest scores binary classifiers only")
        columns = len(typical)
        self._group_of = np.full(columns, -1, dtype=np.int64)
        for g, positions in enumerate(groups):
            self._group_of[positions] = g
        if (self._group_of < 0).any():
            raise ValueError("every column of the feature matrix belongs to a driver group")
        self._estimator = estimator
        self._typical = np.asarray(typical, dtype=float)
        self._groups = [np.asarray(positions, dtype=np.int64) for positions in groups]
        splits, self._leaf_values = _laid_out([trees[0].nodes for trees in estimator._predictors])
        splits.sort(key=lambda split: (split[0], split[1]))  # by column, then threshold
        self._threshold = np.array([split[1] for split in splits], dtype=float)
        self._tree = np.array([split[2] for split in splits], dtype=np.int64)
        self._mask = np.array([split[3] for split in splits], dtype=np.uint64)
        self._missing_left = np.array([split[4] for split in splits], dtype=np.bool_)
        self._column_start = np.searchsorted([split[0] for split in splits], np.arange(columns + 1)).astype(np.int64)
        self._baseline = float(estimator._baseline_prediction[0, 0])
        # Each group's masks for the typical customer's values.
        typical_row = self._typical.reshape(1, -1)
        self._typical_masks = _group_masks(typical_row, *self._splits_by_column(), len(groups),
                                           len(self._leaf_values))[0]

    def _splits_by_column(self):
        return (self._threshold, self._tree, self._mask, self._missing_left, self._column_start, self._group_of)

    def p_return_and_group_effects(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row of the feature matrix `values`: p_return, and per driver
        group (a column, in `groups`' order) p_return minus p_return with
        that group's features set to the typical customer's. Negative: the
        group lowers this customer's chance of returning. Exact for the
        model at hand (no approximation of the model by another). A row whose
        group features are the typical customer's already has an effect of
        exactly 0 for that group: a customer with no survey complaint, say,
        or on the usual brand rule."""
        values = np.ascontiguousarray(values, dtype=float)
        differs = np.stack(
            [(values[:, positions] != self._typical[positions]).any(axis=1) for positions in self._groups], axis=1
        ) if len(values) else np.zeros((0, len(self._groups)), dtype=np.bool_)
        raw, raw_typical = _raw_predictions(
            values, differs, *self._splits_by_column(), self._leaf_values, self._baseline, self._typical_masks
        )
        p_return = self._probability(raw)
        effects = np.zeros(differs.shape)
        effects[differs] = (p_return[:, None] - self._probability(raw_typical))[differs]
        return p_return, effects

    def _probability(self, raw: np.ndarray) -> np.ndarray:
        # scikit-learn's own link from raw score to probability (predict_proba's).
        shape = raw.shape
        return self._estimator._loss.predict_proba(raw.reshape(-1))[:, 1].reshape(shape)


def _laid_out(trees: list[np.ndarray]) -> tuple[list[tuple], np.ndarray]:
    """Every split of `trees` (scikit-learn predictor nodes) as (column,
    threshold, tree, mask of the leaves left when a row goes right,
    missing values go left), and each tree's leaf values, leaves numbered
    left to right."""
    splits: list[tuple] = []
    leaf_values = np.zeros((len(trees), 64))
    for t, nodes in enumerate(trees):
        if nodes["is_categorical"].any():
            raise ValueError("a Forest scores numeric splits only")
        leaves: list[int] = []

        def number(node: int) -> int:
            """Numbers the leaves under `node`; returns the bits of its leaves."""
            if nodes["is_leaf"][node]:
                leaves.append(node)
                return 1 << (len(leaves) - 1)
            left = number(int(nodes["left"][node]))
            right = number(int(nodes["right"][node]))
            splits.append((int(nodes["feature_idx"][node]), float(nodes["num_threshold"][node]), t,
                           int(_ALL) ^ left, bool(nodes["missing_go_to_left"][node])))
            return left | right

        number(0)
        if len(leaves) > 64:
            raise ValueError(f"tree {t} has {len(leaves)} leaves; a Forest scores up to 64")
        leaf_values[t, :len(leaves)] = nodes["value"][leaves]
    return splits, leaf_values


@numba.njit(nogil=True, cache=True)
def _group_masks(values, threshold, tree, mask, missing_left, column_start, group_of, groups, trees):
    """Per row, driver group and tree: the AND of the masks of the group's
    splits that send the row right."""
    masks = np.full((len(values), groups, trees), _ALL)
    for i in range(len(values)):
        _fill_masks(values[i], threshold, tree, mask, missing_left, column_start, group_of, masks[i])
    return masks


@numba.njit(nogil=True, inline="always")
def _fill_masks(row, threshold, tree, mask, missing_left, column_start, group_of, masks):
    for column in range(len(row)):
        value = row[column]
        of_group = masks[group_of[column]]
        split = column_start[column]
        if np.isnan(value):
            for split in range(column_start[column], column_start[column + 1]):
                if not missing_left[split]:
                    of_group[tree[split]] &= mask[split]
        else:
            # Thresholds ascend: the row goes right at every split below its value.
            while split < column_start[column + 1] and threshold[split] < value:
                of_group[tree[split]] &= mask[split]
                split += 1


@numba.njit(inline="always")
def _leaf(bits):
    return _DE_BRUIJN_INDEX[np.uint64((bits & (~bits + np.uint64(1))) * _DE_BRUIJN) >> np.uint64(58)]


@numba.njit(nogil=True, cache=True)
def _raw_predictions(values, differs, threshold, tree, mask, missing_left, column_start, group_of, leaf_values,
                     baseline, typical_masks):
    """Per row: the raw score, and per group where `differs` the raw score
    with that group's masks the typical customer's (NaN elsewhere). Leaf
    values are added tree by tree from the baseline, as scikit-learn adds
    them."""
    rows, groups, trees = len(values), typical_masks.shape[0], typical_masks.shape[1]
    raw = np.empty(rows)
    raw_typical = np.full((rows, groups), np.nan)
    masks = np.empty((groups, trees), dtype=np.uint64)
    before = np.empty((groups + 1, trees), dtype=np.uint64)  # AND of the groups before g
    after = np.empty((groups + 1, trees), dtype=np.uint64)  # AND of the groups from g on
    for i in range(rows):
        for g in range(groups):
            for t in range(trees):
                masks[g, t] = _ALL
        _fill_masks(values[i], threshold, tree, mask, missing_left, column_start, group_of, masks)
        for t in range(trees):
            before[0, t] = _ALL
            after[groups, t] = _ALL
        for g in range(groups):
            for t in range(trees):
                before[g + 1, t] = before[g, t] & masks[g, t]
                after[groups - 1 - g, t] = after[groups - g, t] & masks[groups - 1 - g, t]
        score = baseline
        for t in range(trees):
            score += leaf_values[t, _leaf(before[groups, t])]
        raw[i] = score
        for g in range(groups):
            if differs[i, g]:
                score = baseline
                for t in range(trees):
                    score += leaf_values[t, _leaf(before[g, t] & after[g + 1, t] & typical_masks[g, t])]
                raw_typical[i, g] = score
    return raw, raw_typical
