-- Rejected files (被拒文件), from marts.data_quality_rejected_files: files that
-- could not be read at all (unknown encoding, missing required column, not a
-- CSV); that store and date failed, the file is kept in the landing. The
-- latest $max_rows, newest first, with the number of rejected files in all.
select
    source_file,
    store_code,
    table_name,
    drop_date,
    reason,
    logged_at,
    count(*) over ()    as files_in_all
from marts.data_quality_rejected_files
order by logged_at desc, source_file
limit $max_rows
