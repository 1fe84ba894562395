#!/usr/bin/env bash
# Screenshots of two races as GTKWave opens them from the generated save file
# and zoom script (gtkwave -S <stem>.zoom.tcl <vcd> <gtkw>): the p09 race
# (the victim's tid freed and reused during its abort) and the p08 race (late
# cleanup CQE, work map freed twice), each with its fix reverted. Writes into
# OUT (default build/screenshots), never over tracked files; copy a picture
# into waves/ to update the README's. Needs the Debian packages gtkwave, xvfb
# and imagemagick.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build/screenshots}
mkdir -p "$out"
qedisim=$(realpath "${QEDISIM:-build/qedisim}")
shoot() {  # scenario patch name
  "$qedisim" run "configs/$1.yaml" --revert "$2" --vcd "$out/$3.vcd" --quiet || true
  (cd "$out" && xvfb-run -a -s "-screen 0 1400x1000x24" sh -c \
    "gtkwave -S $3.zoom.tcl $3.vcd $3.gtkw >/dev/null 2>&1 & sleep 8; import -window root $3.png")
  echo "wrote $out/$3.png"
}
shoot p09-tid-reuse-during-abort p09 p09-reverted
shoot p08-cleanup-cqe-after-wait-timeout p08 p08-reverted
