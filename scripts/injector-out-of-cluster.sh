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

# Replaces each webhook's clientConfig (keeping its caBundle) with what $1 <path> prints.
set_client_config() {
  local make=$1 names ca patch='[' i=0 name
  names=$("$KUBECTL" get mutatingwebhookconfiguration "$NAME" -o jsonpath='{range .webhooks[*]}{.name}{"\n"}{end}')
  for name in $names; do
    ca=$("$KUBECTL" get mutatingwebhookconfiguration "$NAME" -o jsonpath="{.webhooks[$i].clientConfig.caBundle}")
    [ "$i" = 0 ] || patch+=','
    patch+="{\"op\":\"replace\",\"path\":\"/webhooks/$i/clientConfig\",\"value\":$("$make" "$(path_of "$name")" "$ca")}"
    i=$((i + 1))
  done
  "$KUBECTL" patch mutatingwebhookconfiguration "$NAME" --type=json -p "$patch]"
}

url_config() { printf '{"url":"%s%s"%s}' "$BASE" "$1" "${2:+,\"caBundle\":\"$2\"}"; }
service_config() { printf '{"service":{"name":"%s","namespace":"%s","path":"%s","port":443}%s}' "$NAME" "$NS" "$1" "${2:+,\"caBundle\":\"$2\"}"; }

case "${1:-}" in
  point)
    BASE=${2:-}
    [[ "$BASE" =~ ^https://[^/]+$ ]] || { echo "point: give the injector's base URL, https://HOST:PORT" >&2; exit 2; }
    "$KUBECTL" -n "$NS" scale deployment "$NAME" --replicas=0
    "$KUBECTL" -n "$NS" wait --for=delete pod -l "app.kubernetes.io/name=$NAME" --timeout=120s
    set_client_config url_config
    echo "webhooks now call $BASE; start the injector there (docs/injector.md)"
    ;;
  restore)
    set_client_config service_config
    "$KUBECTL" -n "$NS" scale deployment "$NAME" --replicas="${2:-2}"
    "$KUBECTL" -n "$NS" rollout status deployment "$NAME" --timeout=240s
    ;;
  *) usage ;;
esac
