#!/usr/bin/env bash
# make demo: render a synthetic signer video, segment it with the built-in
# motion model, and show the tier that signseg wrote. The generated signer is
# a cartoon with no body for MediaPipe to find, so the demo names `motion`;
# on real signing the default model, `hands`, is the one to use.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p demo
rm -f demo/signer.eaf demo/signer.eaf.bak
echo "== rendering a synthetic signer video (a generated test scene, not real signing)"
go run ./examples/synth -seed 1 -out demo/signer.mp4
echo "== bin/signseg video --model motion demo/signer.mp4 (the cartoon has no body for the default hands model to find)"
bin/signseg video --model motion demo/signer.mp4
echo "== the tier signseg wrote into demo/signer.eaf"
bin/signseg show --tier signseg-signs demo/signer.eaf
