"""The catalogue queries a fingerprint is made of, run the same way on the source and the restore.

Where rows are hashed in their text form, the session's output settings are pinned first: the
same value must print the same on both servers whatever their defaults.
"""

SESSION_SETTINGS = {
    "jit": "off",  # compiling the hash aggregate costs more than it saves on one pass
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "3",
    "bytea_output": "hex",
    "lc_monetary": "C",
}

_USER_SCHEMAS = """
    n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
"""
_NOT_FROM_EXTENSION = """
    NOT EXISTS (SELECT 1 FROM pg_depend d
                WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid} AND d.deptype = 'e')
"""

TABLES = f"""
SELECT format('%I.%I', n.nspname, c.relname), n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND {_USER_SCHEMAS}
  AND {_NOT_FROM_EXTENSION.format(catalog="pg_class", oid="c.oid")}
ORDER BY 2, 3
"""
"""Tables that hold rows pg_dump dumps: ordinary tables and partitions (a partitioned parent
holds none), not extension-owned ones, not foreign tables."""

TABLE_PRINT = {
    "record": "SELECT count(*), coalesce(sum(hash_record_extended(t, 0)), 0)::text FROM {table} t",
    "text": "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM {table} t",
}
"""Row count and an order-independent content hash: the sum of a 64-bit hash of every row
(a sum, not XOR, so two identical rows do not cancel out). ``record`` hashes each column with
its type's own hash function (fast, parallel); ``text`` hashes the row's text form, for tables
with a column type that has no such function (json, point, ...)."""

_COLUMNS = f"""
SELECT format('column %I.%I #%s %I %s%s%s', n.nspname, c.relname,
              row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
              a.attname, format_type(a.atttypid, a.atttypmod),
              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
              coalesce(' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid), '')) AS line,
       CASE WHEN ad.adbin IS NULL THEN NULL WHEN a.attgenerated = '' THEN 'default'
            ELSE 'generated' END AS kind,
       n.nspname::text AS table_schema, c.relname::text AS table_name, a.attname::text AS target,
       pg_get_expr(ad.adbin, ad.adrelid) AS definition
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND {_USER_SCHEMAS} AND {_NOT_FROM_EXTENSION.format(catalog="pg_class", oid="c.oid")}
"""

_CONSTRAINTS = f"""
SELECT format('constraint %I.%I %I %s', n.nspname, c.relname, k.conname,
              pg_get_constraintdef(k.oid)) AS line,
       CASE WHEN k.contype = 'c' THEN 'check' END AS kind,
       n.nspname::text AS table_schema, c.relname::text AS table_name, k.conname::text AS target,
       pg_get_constraintdef(k.oid) AS definition
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_USER_SCHEMAS}
"""

_INDEXES = f"""
SELECT 'index ' || x.def AS line,
       CASE WHEN x.tail IS NOT NULL
            THEN CASE WHEN i.indisunique THEN 'unique index' ELSE 'index' END END AS kind,
       n.nspname::text AS table_schema, c.relname::text AS table_name, ic.relname::text AS target,
       x.tail AS definition
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
  SELECT d.def, CASE WHEN starts_with(d.def, d.head || d.tab)
                     THEN substr(d.def, length(d.head || d.tab) + 1)
                     WHEN starts_with(d.def, d.head || 'ONLY ' || d.tab)
                     THEN substr(d.def, length(d.head || 'ONLY ' || d.tab) + 1) END AS tail
  FROM (SELECT pg_get_indexdef(i.indexrelid) AS def,
               format('CREATE %sINDEX %I ON ', CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,
                      ic.relname) AS head,
               format('%I.%I USING ', n.nspname, c.relname) AS tab) d
) x
WHERE {_USER_SCHEMAS} AND {_NOT_FROM_EXTENSION.format(catalog="pg_class", oid="c.oid")}
"""
"""An index's definition is what follows ``… ON table USING``: the part a replay on another
table reproduces (``reword.py``)."""

_VIEWS = f"""
SELECT format('view %I.%I %s', n.nspname, c.relname, md5(pg_get_viewdef(c.oid))) AS line,
       'view' AS kind, n.nspname::text AS table_schema, c.relname::text AS table_name,
       c.relname::text AS target, pg_get_viewdef(c.oid) AS definition
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND {_USER_SCHEMAS}
  AND {_NOT_FROM_EXTENSION.format(catalog="pg_class", oid="c.oid")}
"""

_TRIGGERS = f"""
SELECT 'trigger ' || x.def AS line,
       CASE WHEN starts_with(x.def, x.head) AND strpos(x.def, x.tab) > 0 THEN 'trigger' END
         AS kind,
       n.nspname::text AS table_schema, c.relname::text AS table_name, t.tgname::text AS target,
       substr(x.def, length(x.head) + 1) AS definition
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
  SELECT pg_get_triggerdef(t.oid) AS def, format('CREATE TRIGGER %I ', t.tgname) AS head,
         format(' ON %I.%I ', n.nspname, c.relname) AS tab
) x
WHERE NOT t.tgisinternal AND {_USER_SCHEMAS}
"""
"""A trigger's definition is what follows ``CREATE TRIGGER name``: its events, table, WHEN
clause and function (constraint triggers are compared as text)."""

_WORDED = (_COLUMNS, _CONSTRAINTS, _INDEXES, _VIEWS, _TRIGGERS)
"""Objects whose line holds a definition PostgreSQL words itself (pg_get_expr,
pg_get_constraintdef, pg_get_indexdef, pg_get_viewdef, pg_get_triggerdef): columns with their
defaults or generation expressions, constraints, indexes, views, triggers."""

DEFINITIONS = (
    "SELECT line, kind, table_schema, table_name, target, definition,"
    " CASE WHEN kind = 'view' THEN md5(definition) ELSE definition END FROM ("
    + " UNION ALL ".join(_WORDED)
    + ") worded WHERE kind IS NOT NULL ORDER BY 1"
)
"""The definitions a restoring server may word differently, each with the line it is part of
and what a replay needs: its kind (``check``, ``default``, ``generated``, ``index``,
``unique index``, ``view``, ``trigger``), the table's (or view's) schema and name, the column,
constraint, index, view or trigger name, and the definition as its line ends with it (a view's
as its md5)."""

SCHEMA = (
    "".join(f"SELECT line FROM ({part}) worded UNION ALL\n" for part in _WORDED)
    + f"""
SELECT format('sequence %I.%I last_value %s', schemaname, sequencename,
              coalesce(last_value::text, 'unset'))
FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT format('function %I.%I(%s) %s', n.nspname, p.proname,
              pg_get_function_identity_arguments(p.oid), md5(pg_get_functiondef(p.oid)))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p') AND {_USER_SCHEMAS}
  AND {_NOT_FROM_EXTENSION.format(catalog="pg_proc", oid="p.oid")}
UNION ALL
SELECT format('type %I.%I %s', n.nspname, t.typname,
              (SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder)
               FROM pg_enum e WHERE e.enumtypid = t.oid))
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e' AND {_USER_SCHEMAS}
UNION ALL
SELECT format('schema %I', n.nspname) FROM pg_namespace n WHERE {_USER_SCHEMAS}
UNION ALL
SELECT format('extension %I', extname) FROM pg_extension
ORDER BY 1
"""
)
"""One line per schema object, so a difference reads as the object that differs."""

_ACL = (
    "CASE WHEN {acl} IS NULL THEN 'default'"
    " ELSE array_to_string(ARRAY(SELECT unnest({acl})::text ORDER BY 1), ' ') END"
)
_KIND = (
    "CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'"
    " WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' ELSE 'foreign table' END"
)

GRANTS = f"""
SELECT format('owner %s %I.%I %I', {_KIND}, n.nspname, c.relname,
              pg_get_userbyid(c.relowner))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_USER_SCHEMAS}
UNION ALL
SELECT format('grant %s %I.%I %s', {_KIND}, n.nspname, c.relname, {_ACL.format(acl="c.relacl")})
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_USER_SCHEMAS}
UNION ALL
SELECT format('owner schema %I %I', n.nspname, pg_get_userbyid(n.nspowner))
FROM pg_namespace n WHERE {_USER_SCHEMAS}
UNION ALL
SELECT format('grant schema %I %s', n.nspname, {_ACL.format(acl="n.nspacl")})
FROM pg_namespace n WHERE {_USER_SCHEMAS}
UNION ALL
SELECT format('grant function %I.%I(%s) %s', n.nspname, p.proname,
              pg_get_function_identity_arguments(p.oid), {_ACL.format(acl="p.proacl")})
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {_USER_SCHEMAS} AND {_NOT_FROM_EXTENSION.format(catalog="pg_proc", oid="p.oid")}
UNION ALL
SELECT format('owner database %I', pg_get_userbyid(datdba)) FROM pg_database
WHERE datname = current_database()
UNION ALL
SELECT format('grant database %s', {_ACL.format(acl="datacl")}) FROM pg_database
WHERE datname = current_database()
ORDER BY 1
"""
"""Owners and privileges of every object, the database's own included (pg_restore --create
restores them)."""

ROLES = """
SELECT format('role %I%s%s%s%s%s%s%s connlimit %s', r.rolname,
              CASE WHEN r.rolsuper THEN ' SUPERUSER' ELSE '' END,
              CASE WHEN r.rolinherit THEN ' INHERIT' ELSE '' END,
              CASE WHEN r.rolcreaterole THEN ' CREATEROLE' ELSE '' END,
              CASE WHEN r.rolcreatedb THEN ' CREATEDB' ELSE '' END,
              CASE WHEN r.rolcanlogin THEN ' LOGIN' ELSE '' END,
              CASE WHEN r.rolreplication THEN ' REPLICATION' ELSE '' END,
              CASE WHEN r.rolbypassrls THEN ' BYPASSRLS' ELSE '' END,
              r.rolconnlimit)
FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\\_%'
UNION ALL
SELECT format('member %I of %I%s', m.rolname, g.rolname,
              CASE WHEN a.admin_option THEN ' with admin option' ELSE '' END)
FROM pg_auth_members a
JOIN pg_roles m ON m.oid = a.member JOIN pg_roles g ON g.oid = a.roleid
WHERE g.rolname NOT LIKE 'pg\\_%'
ORDER BY 1
"""
"""Roles and memberships: the globals a database needs beside its dump (passwords are not
readable without superuser, so they are neither dumped nor compared)."""
