#!/usr/bin/env bash
# Compares planguard's built-in library with Checkov on the AWS plans of the shared corpus
# (docs/checkov-comparison.md). Network access is needed only to install Checkov from PyPI;
# Checkov then runs with --skip-download and no API key.
#
#   bench/checkov/run.sh [RESULTS_DIR]          # default /tmp/planguard-checkov
#
# Environment:
#   PLANGUARD        planguard binary (default target/release/planguard; not built here)
#   CORPUS           plan corpus with index.tsv (default testdata/corpus/plans)
#   CHECKOV_VENV     venv for Checkov (default /tmp/ckv); CHECKOV_VERSION (default 3.3.30)
#   REUSE_CHECKOV=1  keep Checkov reports already in RESULTS_DIR/checkov (they take ~5 minutes)
#   SYNTH=N          also time both tools on a synthetic plan of N resources (default 10000, 0 = skip)
#   CHECKOV_TIMEOUT  cap for Checkov on the synthetic plan, seconds (default 600)
set -euo pipefail
cd "$(dirname "$0")/../.."

RESULTS=${1:-/tmp/planguard-checkov}
PLANGUARD=${PLANGUARD:-target/release/planguard}
CORPUS=${CORPUS:-testdata/corpus/plans}
VENV=${CHECKOV_VENV:-/tmp/ckv}
VERSION=${CHECKOV_VERSION:-3.3.30}
SYNTH=${SYNTH:-10000}
CHECKOV_TIMEOUT=${CHECKOV_TIMEOUT:-600}
HERE=bench/checkov

[ -x "$PLANGUARD" ] || { echo "no planguard binary at $PLANGUARD (cargo build --release)" >&2; exit 2; }
if [ ! -x "$VENV/bin/checkov" ]; then
  echo "== installing checkov $VERSION into $VENV (needs PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "checkov==$VERSION"
fi
CHECKOV="$VENV/bin/checkov"
echo "== $("$CHECKOV" --version | head -1) (checkov), $("$PLANGUARD" --version)"

mkdir -p "$RESULTS"/{checkov,planguard,planguard-unchanged,planguard-like}
cat > "$RESULTS/unchanged.yaml" <<'EOF'
planguard:
  config:
    check_unchanged: true
EOF
cat > "$RESULTS/like.yaml" <<'EOF'
planguard:
  config:
    check_unchanged: true
    s3_require_kms: true
EOF

# The AWS plans: column 4 of index.tsv is the number of AWS resources.
awk -F'\t' 'NR > 1 && $4 > 0 { print $1 }' "$CORPUS/index.tsv" > "$RESULTS/plans.txt"
echo "== $(wc -l < "$RESULTS/plans.txt") AWS plans"

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
: > "$RESULTS/timings.tsv"

run_checkov() { # plan out
  "$CHECKOV" -f "$1" --framework terraform_plan -o json --skip-download > "$2" 2> "$2.err" || true
}
run_planguard() { # plan out [args]
  local plan=$1 out=$2; shift 2
  "$PLANGUARD" check "$plan" --format json "$@" > "$out" 2> "$out.err" || true
}

if [ "${REUSE_CHECKOV:-0}" != 1 ] || [ -z "$(ls -A "$RESULTS/checkov")" ]; then
  echo "== checkov on every AWS plan (several minutes)"
  t0=$(now)
  while read -r f; do run_checkov "$CORPUS/$f" "$RESULTS/checkov/${f//\//_}"; done < "$RESULTS/plans.txt"
  printf 'checkov\tall AWS plans\t%s\n' "$(elapsed "$t0" "$(now)")" >> "$RESULTS/timings.tsv"
fi

for run in planguard planguard-unchanged planguard-like; do
  case $run in
    planguard) args=() ;;
    planguard-unchanged) args=(-d "$RESULTS/unchanged.yaml") ;;
    planguard-like) args=(-d "$RESULTS/like.yaml") ;;
  esac
  echo "== $run on every AWS plan"
  t0=$(now)
  while read -r f; do run_planguard "$CORPUS/$f" "$RESULTS/$run/${f//\//_}" ${args[@]+"${args[@]}"}; done < "$RESULTS/plans.txt"
  printf '%s\tall AWS plans\t%s\n' "$run" "$(elapsed "$t0" "$(now)")" >> "$RESULTS/timings.tsv"
done

# The largest AWS plan (by file size, column 2).
largest=$(awk -F'\t' 'NR > 1 && $4 > 0 { print $2 "\t" $1 }' "$CORPUS/index.tsv" | sort -n | tail -1 | cut -f2)
echo "== largest AWS plan: $largest"
for i in 1 2 3; do
  t0=$(now); run_planguard "$CORPUS/$largest" /dev/null
  printf 'planguard\t%s (run %s)\t%s\n' "$largest" "$i" "$(elapsed "$t0" "$(now)")" >> "$RESULTS/timings.tsv"
  t0=$(now); run_checkov "$CORPUS/$largest" /dev/null
  printf 'checkov\t%s (run %s)\t%s\n' "$largest" "$i" "$(elapsed "$t0" "$(now)")" >> "$RESULTS/timings.tsv"
done

if [ "$SYNTH" -gt 0 ]; then
  synth="$RESULTS/synth-$SYNTH.json"
  # The generator is tools/synth.rs, run as an example (see bench/README.md).
  cargo run --release --quiet --example synth_plan -- --resources "$SYNTH" -o "$synth"
  echo "== synthetic plan of $SYNTH resources ($(du -h "$synth" | cut -f1))"
  t0=$(now); run_planguard "$synth" "$RESULTS/synth-planguard.json"
  printf 'planguard\tsynthetic %s resources\t%s\n' "$SYNTH" "$(elapsed "$t0" "$(now)")" >> "$RESULTS/timings.tsv"
  t0=$(now)
  rc=0; timeout "$CHECKOV_TIMEOUT" "$CHECKOV" -f "$synth" --framework terraform_plan -o json --skip-download --quiet \
    > "$RESULTS/synth-checkov.json" 2> "$RESULTS/synth-checkov.err" || rc=$?
  note=""; [ "$rc" = 124 ] && note=" (timed out)"
  printf 'checkov\tsynthetic %s resources%s\t%s\n' "$SYNTH" "$note" "$(elapsed "$t0" "$(now)")" >> "$RESULTS/timings.tsv"
fi

echo "== timings (seconds)"
column -t -s $'\t' "$RESULTS/timings.tsv"
echo
python3 "$HERE/compare.py" --corpus "$CORPUS" --results "$RESULTS" --policies policies \
  --json "$RESULTS/diffs.json" --mapping-md
