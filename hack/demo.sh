#!/usr/bin/env bash
# The demo: the whole product on this machine. Builds what it needs, starts a local control plane (etcd,
# kube-apiserver, kube-controller-manager) and the Jira Cloud simulator with a generated org, creates Secrets,
# two JiraConnections (API token + Admin API, and OAuth service account) and sample JiraActions, runs the
# operator, waits until everything is Ready/Succeeded and prints what a user would look at; then a
# JiraLicensePolicy in DryRun, its plan approved, and the license report before and after.
#
# Interactive by default: it keeps everything running until Ctrl-C, then cleans up. With CI set, with
# DEMO_NONINTERACTIVE=1, or without a terminal, it prints the results and stops.
#
# Settings (environment): DEMO_USERS (default 400), DEMO_SEED (default 7), DEMO_TIMEOUT seconds (default 600),
# DEMO_BIN_DIR (a directory with prebuilt jira-cloud-operator, jira-sim and testenv binaries: skips the build).
set -euo pipefail
cd "$(dirname "$0")/.."

users=${DEMO_USERS:-400}
seed=${DEMO_SEED:-7}
timeout=${DEMO_TIMEOUT:-600}
ns=jira-demo
interactive=1
if [ -n "${CI:-}" ] || [ -n "${DEMO_NONINTERACTIVE:-}" ] || [ ! -t 0 ]; then interactive=0; fi

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
fail() { printf '\nDEMO FAILED: %s\n' "$*" >&2; exit 1; }

work=$(mktemp -d -t jira-demo-XXXXXX)
pids=()
cleanup() {
  local code=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$code" -ne 0 ]; then
    echo "logs were in $work:" >&2
    for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log (last 30 lines)" >&2; tail -n 30 "$log" >&2; }; done
  fi
  # Under the test suite's credential leak audit, the operator's log joins the audit record.
  if [ -n "${JCO_LEAK_AUDIT_DIR:-}" ] && [ -f "$work/operator.log" ]; then
    cp "$work/operator.log" "$JCO_LEAK_AUDIT_DIR/operator-demo-$$.log"
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Building the control plane binaries (cached after the first run)"
bin=$(bash hack/test-bins.sh)
info "$("$bin/kube-apiserver" --version), etcd $("$bin/etcd" --version | sed -n 's/^etcd Version: //p')"
kubectl() { "$bin/kubectl" --kubeconfig "$work/kubeconfig" "$@"; }

if [ -n "${DEMO_BIN_DIR:-}" ]; then
  target=$DEMO_BIN_DIR
else
  step "Building the operator, the simulator and the control plane runner"
  cargo build --quiet --workspace --bins
  target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug
fi

step "Starting the local control plane"
"$target/testenv" --kubeconfig-out "$work/kubeconfig" --crds crds/jiracloud.io.yaml >"$work/testenv.out" 2>"$work/testenv.log" &
pids+=($!)
for _ in $(seq 1 300); do
  grep -q '^ready' "$work/testenv.out" 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || fail "the control plane did not start"
  sleep 0.2
done
grep -q '^ready' "$work/testenv.out" || fail "the control plane did not become ready"
info "$(cat "$work/testenv.out")"

step "Starting the Jira Cloud simulator with a generated org ($users users, 30 days of activity, seed $seed)"
"$target/jira-sim" --port 0 --users "$users" --seed "$seed" --days 30 --print-url >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 1 300); do
  [ -s "$work/sim.out" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || fail "the simulator did not start"
  sleep 0.1
done
sim=$(head -n 1 "$work/sim.out")
sim=${sim%/}
[ -n "$sim" ] || fail "the simulator printed no URL"
cloud_id=$(curl -fsS "$sim/_edge/tenant_info" | sed -n 's/.*"cloudId":"\([^"]*\)".*/\1/p')
org_id=$(curl -fsS -H 'Authorization: Bearer sim-admin-key' "$sim/admin/v1/orgs" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
issue=$(curl -fsS -u admin@example.com:classic-admin-token "$sim/rest/api/3/search/jql?jql=project%3DOPS&fields=key&maxResults=1" |
  sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
info "site $sim (cloudId $cloud_id), organization $org_id"

step "Creating namespace $ns, Secrets, two JiraConnections and sample JiraActions"
kubectl create namespace "$ns" >/dev/null
kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
metadata: {name: jira-basic}
stringData: {email: admin@example.com, apiToken: classic-admin-token}
---
apiVersion: v1
kind: Secret
metadata: {name: jira-oauth}
stringData: {clientId: sim-client-id, clientSecret: sim-client-secret}
---
apiVersion: v1
kind: Secret
metadata: {name: atlassian-admin}
stringData: {apiKey: sim-admin-key}
---
apiVersion: jiracloud.io/v1alpha1
kind: JiraConnection
metadata: {name: acme}
spec:
  siteUrl: $sim
  auth: {basic: {secretRef: {name: jira-basic}}}
  organization: {id: $org_id, secretRef: {name: atlassian-admin}}
---
apiVersion: jiracloud.io/v1alpha1
kind: JiraConnection
metadata: {name: acme-service-account}
spec:
  siteUrl: $sim
  auth: {serviceAccount: {cloudId: $cloud_id, secretRef: {name: jira-oauth}}}
  inventory: Summary
---
apiVersion: jiracloud.io/v1alpha1
kind: JiraAction
metadata: {name: review-inactive-licenses}
spec:
  connectionRef: {name: acme}
  createIssue:
    project: OPS
    issueType: Task
    summary: Review inactive Jira Software licenses
    description: Created by the jira-cloud-operator demo.
    labels: [license-review]
---
apiVersion: jiracloud.io/v1alpha1
kind: JiraAction
metadata: {name: grant-testers-viewer}
spec:
  connectionRef: {name: acme}
  addUserToGroup: {user: {email: viewer@example.com}, group: jira-testers}
---
apiVersion: jiracloud.io/v1alpha1
kind: JiraAction
metadata: {name: revoke-servicedesk-viewer}
spec:
  connectionRef: {name: acme-service-account}
  removeUserFromGroup: {user: {email: viewer@example.com}, group: jira-servicedesk-users}
---
apiVersion: jiracloud.io/v1alpha1
kind: JiraAction
metadata: {name: delete-old-issue}
spec:
  connectionRef: {name: acme}
  deleteIssue: {issue: ${issue:-OPS-1}}
EOF
kubectl get jira -n "$ns"

step "Running the operator"
# The test suite's credential leak audit runs the demo's operator at trace level.
log_level=info
[ -n "${JCO_LEAK_AUDIT_DIR:-}" ] && log_level=trace
KUBECONFIG="$work/kubeconfig" "$target/jira-cloud-operator" --jira-api-url "$sim" --jira-auth-url "$sim" --allowed-site-hosts 127.0.0.1 --log-format text \
  --log-level "$log_level" --jira-requests-per-second 200 --metrics-addr 127.0.0.1:0 --health-addr 127.0.0.1:0 >"$work/operator.log" 2>&1 &
pids+=($!)
operator=${pids[-1]}

step "Waiting for the connections to be Ready and the actions to finish (up to ${timeout}s)"
deadline=$(( $(date +%s) + timeout ))
while :; do
  kill -0 "$operator" 2>/dev/null || fail "the operator exited"
  ready=$(kubectl get jconn -n "$ns" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}')
  phases=$(kubectl get jact -n "$ns" -o jsonpath='{range .items[*]}{.status.phase}{" "}{end}')
  info "connections Ready: [${ready% }]  actions: [${phases% }]"
  n_ready=$(grep -o True <<<"$ready" | wc -l || true)
  n_done=$(grep -oE 'Succeeded|Failed' <<<"$phases" | wc -l || true)
  [ "$n_ready" -eq 2 ] && [ "$n_done" -eq 4 ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting"
  sleep 2
done

step "kubectl get jira -n $ns   (connections and actions)"
kubectl get jira -n "$ns"

step "kubectl get jira-inventory -n $ns   (one JiraUser per synced user: the first lines)"
kubectl get jira-inventory -n "$ns" >"$work/get-inventory.txt"
head -n 10 "$work/get-inventory.txt"
echo "    ... $(grep -c '^jirauser' "$work/get-inventory.txt" || true) JiraUsers in all"

for conn in acme acme-service-account; do
  step "Licenses and usage of $conn"
  kubectl get jconn "$conn" -n "$ns" -o jsonpath='{"    users: "}{.status.users.total}{" total, "}{.status.users.synced}{" synced, "}{.status.users.hiddenEmail}{" hidden email, "}{.status.users.deactivated}{" deactivated"}{"\n"}'
  kubectl get jconn "$conn" -n "$ns" -o jsonpath='{range .status.licenses[*]}{"    "}{.name}{" ("}{.product}{"): "}{.used}{" used of "}{.seats}{" seats, "}{.remaining}{" remaining; "}{.activeUsers}{" active, "}{.inactiveUsers}{" inactive"}{"\n"}{end}'
  kubectl get jconn "$conn" -n "$ns" -o jsonpath='{"    usage "}{.status.usage.from}{" to "}{.status.usage.to}{": "}{.status.usage.activeUsers}{" active users; last days: "}{range .status.usage.daily[-7:]}{.date}{"="}{.activeUsers}{" "}{end}{"\n"}'
  kubectl get jconn "$conn" -n "$ns" -o jsonpath='{"    last sync: "}{.status.lastSyncStats.apiRequests}{" Jira requests in "}{.status.lastSyncStats.durationSeconds}{"s"}{"\n"}'
done
kubectl get jconn acme -n "$ns" -o jsonpath='{"    roles of acme: "}{.status.roles}{"\n"}'

step "Inactive license holders per product (JiraUsers of acme, by label)"
for product in $(kubectl get jconn acme -n "$ns" -o jsonpath='{.status.licenses[*].product}'); do
  selector="jiracloud.io/connection=acme,jiracloud.io/active=false,jiracloud.io/product.$product=true"
  count=$(kubectl get juser -n "$ns" -l "$selector" --no-headers 2>/dev/null | wc -l || true)
  info "$product: $count inactive holders   (kubectl get juser -n $ns -l $selector)"
done
kubectl get juser -n "$ns" -l "jiracloud.io/connection=acme,jiracloud.io/active=false" >"$work/inactive.txt"
head -n 6 "$work/inactive.txt"

step "Sample actions"
kubectl get jact -n "$ns" -o wide

report() {
  KUBECONFIG="$work/kubeconfig" "$target/jira-cloud-operator" report -n "$ns" acme --inactive-days 14 --seat-price jira-software=8.60
}
step "jira-cloud-operator report -n $ns acme --inactive-days 14 --seat-price jira-software=8.60   (before)"
report

step "A JiraLicensePolicy in DryRun: Jira Software holders without activity for 14 days"
kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: jiracloud.io/v1alpha1
kind: JiraLicensePolicy
metadata: {name: reclaim-software}
spec:
  connectionRef: {name: acme}
  products: [jira-software]
  inactiveDays: 14
  mode: DryRun
  maxReclaimsPerRun: 5
  seatPrice: {jira-software: {amount: "8.60", currency: USD}}
EOF
policy() { kubectl get jlp reclaim-software -n "$ns" -o jsonpath="$1"; }
until [ "$(policy '{.status.conditions[?(@.type=="Ready")].status}')" = True ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for the license policy"
  sleep 1
done
kubectl get jlp -n "$ns"
policy '{range .status.products[*]}{"    "}{.product}{": "}{.holders}{" holders, "}{.inactive}{" inactive, "}{.unknownYet}{" unknown yet, "}{.excluded}{" excluded, "}{.candidates}{" candidates, "}{.monthlySavings.amount}{" "}{.monthlySavings.currency}{" a month"}{"\n"}{end}'
policy '{range .status.conditions[*]}{"    "}{.type}{"="}{.status}{" ("}{.reason}{"): "}{.message}{"\n"}{end}'
plan=$(policy '{.status.plan.id}')
if [ -n "$plan" ]; then
  info "plan $plan, nothing changed in Jira yet:"
  policy '{range .status.plan.reclaims[*]}{"      "}{.email}{" leaves "}{.groups}{"\n"}{end}'

  step "Approving plan $plan   (in Git: a reviewed commit that sets mode: Approval and approvedPlan: $plan)"
  kubectl patch jlp reclaim-software -n "$ns" --type merge \
    -p "{\"spec\":{\"mode\":\"Approval\",\"approvedPlan\":\"$plan\"}}" >/dev/null
  until [ "$(policy '{.status.lastRun.finished}')" = true ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for the approved run"
    sleep 1
  done
  policy '{"    run of plan "}{.status.lastRun.planId}{": "}{.status.lastRun.reclaimed}{" users reclaimed, "}{.status.lastRun.skipped}{" skipped"}{"\n"}'
  kubectl get jact -n "$ns" -l jiracloud.io/policy=reclaim-software

  step "A sync after the run moves the figures"
  synced=$(policy '{.status.inventoryTime}')
  kubectl annotate jconn acme -n "$ns" jiracloud.io/sync-requested=after-reclaim --overwrite >/dev/null
  until [ "$(policy '{.status.inventoryTime}')" != "$synced" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for the sync after the run"
    sleep 1
  done
  policy '{"    checked against the sync of "}{.status.lastRun.checkedSyncTime}{": "}{.status.lastRun.notReclaimed}{" reclaimed users still hold the product"}{"\n"}{range .status.lastRun.notReclaimedUsers[*]}{"      "}{.accountId}{" "}{.reason}{": "}{.message}{"\n"}{end}'
  step "jira-cloud-operator report -n $ns acme --inactive-days 14 --seat-price jira-software=8.60   (after)"
  report
else
  fail "the license policy has no plan: its conditions above say why (every inactive holder excluded or unknown yet?)"
fi

cat <<EOF

The demo works: 2 connections Ready, 4 actions finished.
Explore further (while the demo runs):
  export KUBECONFIG=$work/kubeconfig
  $bin/kubectl get jira -n $ns
  $bin/kubectl describe jconn acme -n $ns
  $bin/kubectl annotate jconn acme -n $ns jiracloud.io/sync-requested=\$(date +%s) --overwrite
  curl -u "admin@example.com:\$($bin/kubectl get secret jira-basic -n $ns -o jsonpath='{.data.apiToken}' | base64 -d)" '$sim/rest/api/3/myself'
EOF
if [ "$interactive" -eq 1 ]; then
  echo "Press Ctrl-C to stop the demo and clean up."
  wait "$operator"
fi
