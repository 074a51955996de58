#!/usr/bin/env bash
# train-rss.sh [N...]: peak resident memory of `signseg train` on N generated
# signer videos of 100 moves (about 90 s each) with motion features, for
# each N (default 4 16), once computing the features and once from the
# feature cache. Memory should not grow with N: training and validation read
# one file's features at a time from the cache. Needs bin/signseg (make
# build), ffmpeg and GNU time (/usr/bin/time); work files go to a temporary
# folder, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-4}")
[ $# -gt 0 ] || counts=(4 16)
max=0
for n in "${counts[@]}"; do [ "$n" -gt "$max" ] && max=$n; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/synth" ./examples/synth
for i in $(seq 1 "$max"); do
	"$work/synth" -seed "$i" -signs 100 -out "$work/videos/v$i.mp4" >/dev/null
done
for n in "${counts[@]}"; do
	files=()
	for i in $(seq 1 "$n"); do files+=("$work/videos/v$i-truth.eaf"); done
	for run in computed cached; do
		/usr/bin/time -v bin/signseg train --models-dir "$work/models-$n" --ref truth --features motion --out m --force \
			--val 25% --epochs 3 --patience 0 --stages 2 --layers 6 --channels 16 --quiet "${files[@]}" \
			>"$work/out" 2>"$work/time" || { cat "$work/out" "$work/time"; exit 1; }
		echo "$n videos, features $run: $(grep -o '[0-9]* *$' <<<"$(grep 'Maximum resident' "$work/time")") KiB peak RSS, $(grep -o '[0-9:.]*$' <<<"$(grep 'Elapsed' "$work/time")") wall"
	done
done
