#!/bin/sh
# Gate a deploy on hopwatch: wait for the rollout, then verify the new pods through every hop.
# Exit 0: the new version answers through every hop; 1: it does not (rolled back when
# ROLLBACK=1); 2: hopwatch could not verify (no such Ingress, no canary pods, cluster unreachable).
#
#   NAMESPACE=shop DEPLOYMENT=web INGRESS=web ./verify-after-deploy.sh
#
# Environment:
#   NAMESPACE, DEPLOYMENT, INGRESS   required
#   DURATION     how long to verify (default 60s)
#   HOPWATCH     the hopwatch command (default: hopwatch); HOPWATCH_ARGS extra flags (--config ...)
#   KUBECTL      the kubectl command (default: kubectl); SKIP_ROLLOUT_STATUS=1 skips `rollout status`
#   REPORT       where the JSON report goes (default: hopwatch-verify.json)
#   ROLLBACK     1: `kubectl rollout undo` when verification fails
set -eu

: "${NAMESPACE:?set NAMESPACE}"
: "${DEPLOYMENT:?set DEPLOYMENT}"
: "${INGRESS:?set INGRESS}"
DURATION="${DURATION:-60s}"
HOPWATCH="${HOPWATCH:-hopwatch}"
HOPWATCH_ARGS="${HOPWATCH_ARGS:-}"
KUBECTL="${KUBECTL:-kubectl}"
REPORT="${REPORT:-hopwatch-verify.json}"

if [ "${SKIP_ROLLOUT_STATUS:-0}" != 1 ]; then
  $KUBECTL -n "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout=5m
fi

# --wait-rollout also covers the moment between `rollout status` and the new pods being endpoints.
# shellcheck disable=SC2086 # HOPWATCH and HOPWATCH_ARGS are word lists on purpose.
if $HOPWATCH verify $HOPWATCH_ARGS \
  --ingress "$NAMESPACE/$INGRESS" \
  --wait-rollout "deployment/$DEPLOYMENT" \
  --duration "$DURATION" \
  -o json >"$REPORT"; then
  code=0
else
  code=$?
fi

case "$code" in
  0)
    echo "hopwatch: $NAMESPACE/$INGRESS passes; report in $REPORT"
    ;;
  1)
    echo "hopwatch: $NAMESPACE/$INGRESS fails; report in $REPORT" >&2
    if [ "${ROLLBACK:-0}" = 1 ]; then
      $KUBECTL -n "$NAMESPACE" rollout undo "deployment/$DEPLOYMENT"
    fi
    ;;
  *)
    echo "hopwatch: could not verify $NAMESPACE/$INGRESS (exit $code)" >&2
    ;;
esac
exit "$code"
