#!/bin/sh
# Renders the worker properties from the environment and starts Kafka Connect in distributed mode.
# `entrypoint.sh --print-config` renders to stdout and exits (used by the tests).
set -eu

TEMPLATE="${CONNECT_PROPERTIES_TEMPLATE:-/opt/kafka/config/cdc/connect-distributed.properties}"
RENDERED="${CONNECT_PROPERTIES_FILE:-/tmp/connect-distributed.properties}"

# On Fargate (awsvpc) the task's own address is what the other workers and the load balancer use.
if [ -z "${CONNECT_REST_ADVERTISED_HOST_NAME:-}" ]; then
  CONNECT_REST_ADVERTISED_HOST_NAME="$(hostname -i | awk '{print $1}')"
  export CONNECT_REST_ADVERTISED_HOST_NAME
fi

missing=""
rendered="$(cat "$TEMPLATE")"
for name in $(grep -v '^#' "$TEMPLATE" | grep -o '@@[A-Z_]*@@' | tr -d '@' | sort -u); do
  value="$(printenv "$name" || true)"
  if [ -z "$value" ]; then
    missing="$missing $name"
    continue
  fi
  # Escape what sed treats specially in a replacement.
  escaped="$(printf '%s' "$value" | sed 's/[&|\\]/\\&/g')"
  rendered="$(printf '%s\n' "$rendered" | sed "s|@@${name}@@|${escaped}|g")"
done
if [ -n "$missing" ]; then
  echo "entrypoint: missing environment variables:$missing (set them in the ECS task definition)" >&2
  exit 64
fi

if [ "${1:-}" = "--print-config" ]; then
  printf '%s\n' "$rendered"
  exit 0
fi
printf '%s\n' "$rendered" > "$RENDERED"
exec /opt/kafka/bin/connect-distributed.sh "$RENDERED"
