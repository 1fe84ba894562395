#!/usr/bin/env bash
# scripts/check-layers must pass on the tree and fail, naming the file and
# line, on a copy with one planted violation per rule (the include rules
# and the rule of time).
#   planted.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2/layers-planted
check=$src/scripts/check-layers

fail() { echo "FAIL: $*" >&2; exit 1; }

"$check" "$src" > /dev/null || fail "the tree itself does not pass"

# One copy of the models, checked clean; each plant changes one file of it
# and puts the file back.
rm -rf "$work"
mkdir -p "$work"
cp -r "$src/common" "$src/hba_model" "$src/host_driver_model" "$src/sim" "$work/"
"$check" "$work" > /dev/null || fail "the clean copy does not pass"

# plant FILE LINE EXPECTED_WHY: add LINE to FILE in the copy, expect exit 1 naming FILE.
plant() {
  local file=$1 line=$2 why=$3 out rc
  printf '%s\n' "$line" >> "$work/$file"
  set +e
  out=$("$check" "$work" 2>&1)
  rc=$?
  set -e
  [ $rc -eq 1 ] || fail "$file with '$line': exit $rc, want 1"
  grep -q "^$file:[0-9]*:" <<< "$out" || fail "$file with '$line': file not named in: $out"
  grep -qF "$why" <<< "$out" || fail "$file with '$line': reason '$why' missing in: $out"
  cp "$src/$file" "$work/$file"
  echo "ok: $file  $line"
}

plant hba_model/firmware.h '#include "sim/scenario/params.h"' 'never includes the application'
plant hba_model/hba.cpp '#include "host_driver_model/driver.h"' 'knows nothing of the driver'
plant host_driver_model/qedi/qedi.h '#include "sim/failpoints/failpoints.h"' 'never includes the application'
plant host_driver_model/kernel/kernel.cpp '  #  include <yaml-cpp/yaml.h>' 'no scenario format'
plant common/duration.h '#include "hba_model/hba_params.h"' 'ground floor'
plant hba_model/hba.cpp 'void f() { wake_.notify(sc_core::sc_time(5, sc_core::SC_NS)); }' 'through the timeline'
plant host_driver_model/kernel/kernel.cpp 'void g() { sc_core::wait(ns(5)); }' 'through the timeline'
plant sim/workload.cpp 'void h() { next_trigger(10, sc_core::SC_MS); }' 'through the timeline'
"$check" "$work" > /dev/null || fail "the copy is not clean again after the plants"
rm -rf "$work"
echo "check-layers fires on every planted violation"
