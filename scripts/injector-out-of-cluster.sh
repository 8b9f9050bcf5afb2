#!/usr/bin/env bash
# Development: let the API server call an injector you run outside the cluster, and hand back.
# docs/injector.md, "Running the injector outside the cluster".
#
#   scripts/injector-out-of-cluster.sh point https://HOST:PORT   in-cluster injector to 0 replicas,
#                                                                both webhooks to HOST:PORT
#   scripts/injector-out-of-cluster.sh restore [REPLICAS]        both webhooks back to the Service,
#                                                                the injector back to REPLICAS (2)
#
# HOST must be an address the API server reaches, and in the certificate of the injector you run
# (--tls-ip-addresses / --tls-dns-names); that injector writes its CA into the webhooks at start.
# Env: KUBECTL (kubectl), OME_MCP_NAMESPACE (ome-mcp-system), OME_MCP_NAME (ome-mcp-injector:
# the Deployment, Service and MutatingWebhookConfiguration).
set -euo pipefail
KUBECTL=${KUBECTL:-kubectl}
NS=${OME_MCP_NAMESPACE:-ome-mcp-system}
NAME=${OME_MCP_NAME:-ome-mcp-injector}

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

# The admission path of each webhook (the same for the Service and a URL).
path_of() {
  case "$1" in
    namespace.inject.mcp.ome.io) echo /inject/namespace ;;
    pod.inject.mcp.ome.io) echo /inject/pod ;;
    *) echo "unknown webhook $1" >&2; exit 1 ;;
  esac
}

# Points each webhook's clientConfig at what `$1 <path>` prints (`url` or `service`), one JSON
# patch that removes the other and never touches `caBundle`: an injector starting meanwhile writes
# its CA there, and a read-then-replace of the whole clientConfig could put the old CA back over it
# (the API server then fails TLS to that injector, and the pod webhook, failurePolicy Ignore, lets
# pods through without an agent until the injector's next caBundle upkeep, a minute later).
set_client_config() {
  local field=$1 other names patch='[' i=0 name
  [ "$field" = url ] && other=service || other=url
  names=$("$KUBECTL" get mutatingwebhookconfiguration "$NAME" -o jsonpath='{range .webhooks[*]}{.name}{"\n"}{end}')
  for name in $names; do
    [ "$i" = 0 ] || patch+=','
    # `add` replaces an existing member; `remove` of a missing one would fail the patch, so only
    # when it is there (the test op makes the whole patch fail if the list moved meanwhile).
    patch+="{\"op\":\"test\",\"path\":\"/webhooks/$i/name\",\"value\":\"$name\"}"
    if [ -n "$("$KUBECTL" get mutatingwebhookconfiguration "$NAME" -o jsonpath="{.webhooks[$i].clientConfig.$other}")" ]; then
      patch+=",{\"op\":\"remove\",\"path\":\"/webhooks/$i/clientConfig/$other\"}"
    fi
    patch+=",{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/$field\",\"value\":$("${field}_value" "$(path_of "$name")")}"
    i=$((i + 1))
  done
  "$KUBECTL" patch mutatingwebhookconfiguration "$NAME" --type=json -p "$patch]"
}

url_value() { printf '"%s%s"' "$BASE" "$1"; }
service_value() { printf '{"name":"%s","namespace":"%s","path":"%s","port":443}' "$NAME" "$NS" "$1"; }

case "${1:-}" in
  point)
    BASE=${2:-}
    [[ "$BASE" =~ ^https://[^/]+$ ]] || { echo "point: give the injector's base URL, https://HOST:PORT" >&2; exit 2; }
    "$KUBECTL" -n "$NS" scale deployment "$NAME" --replicas=0
    "$KUBECTL" -n "$NS" wait --for=delete pod -l "app.kubernetes.io/name=$NAME" --timeout=120s
    set_client_config url
    echo "webhooks now call $BASE; start the injector there (docs/injector.md)"
    ;;
  restore)
    set_client_config service
    "$KUBECTL" -n "$NS" scale deployment "$NAME" --replicas="${2:-2}"
    "$KUBECTL" -n "$NS" rollout status deployment "$NAME" --timeout=240s
    ;;
  *) usage ;;
esac
