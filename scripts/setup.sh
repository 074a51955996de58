#!/usr/bin/env bash
# Installs what signseg needs at run time and in tests:
#   - the ONNX Runtime 1.24.1 shared library, into lib/ (checked by sha256);
#   - the MediaPipe Holistic models (npm package @mediapipe/holistic, Apache-2.0),
#     unpacked into lib/mediapipe/ (checked by sha256); signseg converts them;
#   - ffmpeg/ffprobe and xmllint from Debian, when missing.
# Safe to run again: it does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.24.1
ORT_TGZ_SHA256=57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772
ORT_LIB_SHA256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
ORT_LIB=lib/libonnxruntime.so.1

# MediaPipe Holistic: the .tflite models, plain and packed (keypoints.md).
MP_VERSION=0.5.1675471629
MP_TGZ_SHA256=8a3c0632e40e761e637d020738e96dc54d9bbbd4330ce2b206469fe467fd708b
MP_DIR=lib/mediapipe/holistic-$MP_VERSION

log() { echo "setup: $*" >&2; }

fetch_ort() {
	if [ -f "$ORT_LIB" ] && echo "$ORT_LIB_SHA256  $ORT_LIB" | sha256sum -c --status; then
		return
	fi
	case "$(uname -s)/$(uname -m)" in
	Linux/x86_64) ;;
	*) log "automatic ONNX Runtime download supports Linux x86-64 only; put libonnxruntime (>= 1.24) in lib/ or set SIGNSEG_ORT_LIB"; exit 1 ;;
	esac
	command -v npm >/dev/null || { log "npm is needed to fetch ONNX Runtime: apt-get install -y npm"; exit 1; }
	log "fetching ONNX Runtime $ORT_VERSION (npm package onnxruntime-node, ~86 MB)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	(cd "$tmp" && npm pack "onnxruntime-node@$ORT_VERSION" --silent >/dev/null)
	echo "$ORT_TGZ_SHA256  $tmp/onnxruntime-node-$ORT_VERSION.tgz" | sha256sum -c --status ||
		{ log "onnxruntime-node-$ORT_VERSION.tgz: sha256 mismatch"; exit 1; }
	tar xzf "$tmp/onnxruntime-node-$ORT_VERSION.tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	echo "$ORT_LIB_SHA256  $tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" | sha256sum -c --status ||
		{ log "libonnxruntime.so.1: sha256 mismatch"; exit 1; }
	mkdir -p lib
	mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_LIB.tmp"
	mv "$ORT_LIB.tmp" "$ORT_LIB"
	log "installed $ORT_LIB"
}

# fetch_mediapipe unpacks the npm tarball into $MP_DIR. The tarball's sha256 is
# checked; the sums of the files unpacked from it are kept in
# $MP_DIR/.files.sha256, so a later run re-checks the files, not just a marker.
fetch_mediapipe() {
	if [ -f "$MP_DIR/.tgz.sha256" ] && [ "$(cat "$MP_DIR/.tgz.sha256")" = "$MP_TGZ_SHA256" ] &&
		[ -f "$MP_DIR/.files.sha256" ] && (cd "$MP_DIR" && sha256sum -c --status .files.sha256); then
		return
	fi
	command -v npm >/dev/null || { log "npm is needed to fetch the MediaPipe models: apt-get install -y npm"; exit 1; }
	log "fetching MediaPipe Holistic $MP_VERSION (npm package @mediapipe/holistic)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	(cd "$tmp" && npm pack "@mediapipe/holistic@$MP_VERSION" --silent >/dev/null)
	echo "$MP_TGZ_SHA256  $tmp/mediapipe-holistic-$MP_VERSION.tgz" | sha256sum -c --status ||
		{ log "mediapipe-holistic-$MP_VERSION.tgz: sha256 mismatch"; exit 1; }
	mkdir -p "$tmp/unpacked"
	tar xzf "$tmp/mediapipe-holistic-$MP_VERSION.tgz" -C "$tmp/unpacked"
	(cd "$tmp/unpacked" && find package -type f | LC_ALL=C sort | xargs sha256sum >.files.sha256)
	echo "$MP_TGZ_SHA256" >"$tmp/unpacked/.tgz.sha256"
	mkdir -p "$(dirname "$MP_DIR")"
	rm -rf "$MP_DIR"
	mv "$tmp/unpacked" "$MP_DIR"
	log "installed $MP_DIR"
}

install_debian() {
	local missing=()
	command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
	if [ "${1:-}" = with-xmllint ]; then
		command -v xmllint >/dev/null || missing+=(libxml2-utils)
	fi
	[ ${#missing[@]} -eq 0 ] && return
	local cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		log "missing: ${missing[*]}; install with: sudo sh -c '$cmd'"
		exit 1
	fi
	log "installing ${missing[*]} from Debian"
	export DEBIAN_FRONTEND=noninteractive
	local aptlog
	aptlog=$(mktemp)
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1; then
		cat "$aptlog" >&2
		rm -f "$aptlog"
		log "installing ${missing[*]} failed; try: $cmd"
		exit 1
	fi
	rm -f "$aptlog"
}

fetch_ort
fetch_mediapipe
install_debian "${1:-}"
