#!/bin/sh
# One-shot: create Temporal's two databases and bring their schemas up to this image's
# version. Safe to run again: existing databases and applied versions are left alone.
# temporal-sql-tool reads the password from SQL_PASSWORD.
set -eu

tool() {
  db=$1
  shift
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" \
    -u "$POSTGRES_USER" --db "$db" "$@"
}

until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do sleep 1; done
for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  dir=${pair##*:}
  tool "$db" create || echo "database $db exists"
  tool "$db" setup-schema -v 0.0 || echo "schema of $db is set up"
  tool "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
done
