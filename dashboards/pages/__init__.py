"""One module per kind of page: collect(con, site) once, build(data, site, t) per language."""
