#!/usr/bin/env bash
# Regenerates waves/p08-reverted.png: the p08 race (late cleanup CQE, work
# map freed twice) with the fix reverted, as GTKWave opens it from the
# generated save file. Needs the Debian packages gtkwave, xvfb, imagemagick.
set -euo pipefail
cd "$(dirname "$0")/.."
"${QEDISIM:-build/qedisim}" run configs/p08-cleanup-cqe-after-wait-timeout.yaml --revert p08 --vcd waves/p08-reverted.vcd --quiet || true
cd waves
xvfb-run -a -s "-screen 0 1400x1000x24" sh -c \
  'gtkwave p08-reverted.vcd p08-reverted.gtkw >/dev/null 2>&1 & sleep 6; import -window root p08-reverted.png'
echo "wrote waves/p08-reverted.png"
