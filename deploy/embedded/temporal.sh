#!/usr/bin/env bash
# The Temporal development server on a SQLite file under var/, so `make run` restarts on the
# same data. The search attributes are registered by the lifecycle worker when it starts.
set -euo pipefail
address=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
mkdir -p var
exec temporal server start-dev \
  --db-filename var/temporal.db \
  --ip "${address%:*}" --port "${address##*:}" \
  --ui-port "${TEMPORAL_UI_PORT:-8233}" \
  --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
  --log-level error
