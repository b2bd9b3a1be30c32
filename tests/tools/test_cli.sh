#!/usr/bin/env bash
# The command-line contract of convbench-calc and convbench-run: results on
# stdout; bad input is a message on stderr, exit status 2, nothing on stdout and
# no partial files.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect_error NEEDLE CMD...: status 2, empty stdout, NEEDLE on stderr.
expect_error() {
  local needle=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -ne 2 ]; then bad "$* -> exit $rc, expected 2"; return; fi
  if [ -s "$tmp/out" ]; then bad "$* -> printed on stdout: $(head -c 200 "$tmp/out")"; return; fi
  if ! grep -qF -- "$needle" "$tmp/err"; then bad "$* -> stderr lacks '$needle': $(cat "$tmp/err")"; return; fi
  ok
}
expect_ok() {
  "$@" >"$tmp/out" 2>"$tmp/err" || { bad "$* -> exit $?: $(cat "$tmp/err")"; return; }
  ok
}

calc=$bin/convbench-calc
run=$bin/convbench-run

expect_ok "$calc" --kind all --shape mb1ic64ih56oc64oh56kh3
grep -q 'ratio to normal' "$tmp/out" || bad "calc --kind all lacks ratios"
expect_ok "$calc" --kind depthwise --shape mb1ic64ih56oc64oh56kh3 --json
grep -q '"macs_effective"' "$tmp/out" || bad "calc --json lacks macs_effective"
expect_ok "$calc" --kind all --shape mb1ic64ih56oc64oh56kh3 --json
[ "$(head -c 1 "$tmp/out")" = "[" ] || bad "calc --kind all --json is not an array"

expect_error "unknown field 'xx'" "$calc" --kind normal --shape mb1ic64xx3
expect_error "unknown kind 'diagonal'" "$calc" --kind diagonal --shape ic3ih5oc3kh3
expect_error "unknown activation 'gelu'" "$calc" --shape ic3ih5oc3kh3 --act gelu
expect_error "needs g1" "$calc" --kind spatial --shape g2ic4ih5oc4kh3
expect_error "--shape is required" "$calc" --kind normal
expect_error "--bogus" "$calc" --shape ic3ih5oc3kh3 --bogus
expect_error "missing required field 'kh'" "$run" --shape ic3ih5oc3
expect_error "unknown backend 'nope'" "$run" --shape ic3ih5oc3kh3 --backend nope
expect_error "unknown layout 'chwn'" "$run" --shape ic3ih5oc3kh3 --layout chwn
expect_error "--iters" "$run" --shape ic3ih5oc3kh3 --iters 0
expect_error "--seed" "$run" --shape ic3ih5oc3kh3 --seed banana

expect_error "NHWC tensors only" "$run" --shape ic3ih5oc3kh3 --backend xnnpack --layout nchw
expect_error "f32 only" "$run" --shape ic3ih5oc3kh3 --backend im2col_openblas --precision int8
expect_error "unknown precision 'fp8'" "$run" --shape ic3ih5oc3kh3 --backend onednn --precision fp8
expect_ok "$run" --kind depthwise --shape mb1ic8ih9oc8oh9kh3 --backend onednn --layout nchw --act elu --unfused --iters 2
grep -q 'reorder:src' "$tmp/out" || bad "onednn on nchw shows no input reorder step"
grep -q '^reorders ' "$tmp/out" || bad "onednn on nchw reports no reorder time"
grep -q 'act1 ' "$tmp/out" || bad "--unfused shows no activation step"

expect_ok "$run" --backend list
grep -q '^ref ' "$tmp/out" || bad "--backend list does not name ref"
expect_ok "$run" --kind dw_spatial --shape mb1ic5ih9oc7oh9kh3 --act elu --iters 2
grep -q 'ref_direct' "$tmp/out" || bad "run does not print the implementation"
grep -q 'median' "$tmp/out" || bad "run does not print the median"

# A failing run leaves no folder behind.
expect_error "kernel extent" "$run" --shape ic3ih2oc3kh3 --save "$tmp/never"
[ -e "$tmp/never" ] && bad "--save left $tmp/never after an error"
# --save into a path that is a file: refused, the file untouched.
echo keep >"$tmp/afile"
expect_error "not a folder" "$run" --shape ic3ih5oc3kh3 --save "$tmp/afile"
[ "$(cat "$tmp/afile")" = keep ] || bad "--save overwrote a file"
ls "$tmp" | grep -q partial && bad "--save left a partial folder"

expect_ok "$run" --kind depthwise --shape mb1ic3ih6oc5oh6kh3 --bias --save "$tmp/saved"
for f in input.npy weights0.npy weights1.npy bias0.npy bias1.npy output.npy problem.json; do
  [ -s "$tmp/saved/$f" ] || bad "--save did not write $f"
done

echo "cli: $passes passed, $fails failed"
[ $fails -eq 0 ]
