#!/usr/bin/env bash
# GPU check for the webgpu backend on a Linux x86-64 machine with an NVIDIA GPU and no internet.
#
# Bring this repository with its node_modules installed and built (npm ci on a machine with the
# same OS, then copy the folder; ../shared beside it for the VGG-19 file), and where the machine
# lacks them: Node as its official x86-64 binary (node-v22.x-linux-x64.tar.xz or its unpacked
# folder) and the Vulkan loader as Debian/Ubuntu .deb files (libvulkan1_*.deb, e.g. from
# `apt-get download libvulkan1` elsewhere). NVIDIA's Vulkan driver comes with its display driver
# (its ICD file is /usr/share/vulkan/icd.d/nvidia_icd.json or /etc/vulkan/icd.d/nvidia_icd.json).
#
# It prints the adapter (artiphys doctor --json), runs `npm run bench -- speed --json` on webgpu
# and on the CPU backend, and a full-default 16-unit diverse run of VGG-19 relu3_1 on webgpu with
# its wall time. Everything it prints is also written under the output folder.
#
# Usage: scripts/gpu-check.sh [--node PATH] [--vulkan-debs DIR] [--model FILE] [--out DIR]
#                             [--cpu-backend NAME] [--quick] [--allow-software]
#   --node PATH         Node tarball or folder (env ARTIPHYS_NODE); default: the node on PATH
#   --vulkan-debs DIR   folder of .deb files with libvulkan1 (env ARTIPHYS_VULKAN_DEBS), used
#                       only when libvulkan.so.1 is not installed
#   --model FILE        VGG-19 ONNX file (default ../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx)
#   --out DIR           where results go (default gpu-check-YYYYmmdd-HHMMSS)
#   --cpu-backend NAME  the CPU backend to compare with (default tensorflow, i.e. tfjs-node)
#   --quick             smoke test: a 2-unit diverse run of 10 steps and no bench (for a software
#                       adapter such as lavapipe, where the full run takes hours)
#   --allow-software    go on when the adapter is a software one (lavapipe); implied by --quick
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
node_src=${ARTIPHYS_NODE:-}
debs=${ARTIPHYS_VULKAN_DEBS:-}
model=$repo/../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx
out=""
cpu_backend=tensorflow
quick=0
allow_software=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --node) node_src=$2; shift 2 ;;
    --vulkan-debs) debs=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --cpu-backend) cpu_backend=$2; shift 2 ;;
    --quick) quick=1; allow_software=1; shift ;;
    --allow-software) allow_software=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown argument $1 (--help lists them)" >&2; exit 2 ;;
  esac
done
out=${out:-$repo/gpu-check-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/gpu-check.log
work=$(mktemp -d "${TMPDIR:-/tmp}/artiphys-gpu-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=()

say() { echo "$*" | tee -a "$log"; }
fail() { failures+=("$1"); say "FAILED: $1"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

say "# artiphys GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"

# --- Node -------------------------------------------------------------------------------------
if [[ -n $node_src ]]; then
  if [[ -d $node_src ]]; then
    node_dir=$(cd "$node_src" && pwd)
  else
    mkdir -p "$work/node"
    tar -xf "$node_src" -C "$work/node" --strip-components=1 || { echo "gpu-check: cannot unpack $node_src" >&2; exit 2; }
    node_dir=$work/node
  fi
  [[ -x $node_dir/bin/node ]] || { echo "gpu-check: no bin/node in $node_src" >&2; exit 2; }
  export PATH=$node_dir/bin:$PATH
fi
command -v node >/dev/null || { echo "gpu-check: no node on PATH; pass --node node-v22.x-linux-x64.tar.xz" >&2; exit 2; }
say "node $(node --version) ($(command -v node)), $(uname -srm)"
[[ -f $repo/out/main/cli.js ]] || { echo "gpu-check: $repo is not built (run npm ci / npm run build where there is network)" >&2; exit 2; }
[[ -d $repo/node_modules/webgpu ]] || say "warning: node_modules/webgpu is missing: the webgpu backend cannot load"

# --- Vulkan loader and driver -----------------------------------------------------------------
have_loader() { ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' || [[ -n $(find_in_ld_path libvulkan.so.1) ]]; }
find_in_ld_path() {
  local d
  IFS=: read -ra dirs <<<"${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}" /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu; do
    [[ -n $d && -e $d/$1 ]] && { echo "$d/$1"; return; }
  done
}
if ! have_loader; then
  if [[ -n $debs ]]; then
    say "Vulkan loader not installed: unpacking the .deb files in $debs"
    shopt -s nullglob
    for deb in "$debs"/*.deb; do
      if command -v dpkg >/dev/null; then
        dpkg -x "$deb" "$work/vulkan"
      else # no dpkg: a .deb is an ar archive holding data.tar.*
        (mkdir -p "$work/deb" && cd "$work/deb" && rm -f data.tar.* && ar x "$deb" && mkdir -p "$work/vulkan" && tar -xf data.tar.* -C "$work/vulkan")
      fi
    done
    shopt -u nullglob
    for d in "$work"/vulkan/usr/lib/x86_64-linux-gnu "$work"/vulkan/usr/lib64 "$work"/vulkan/usr/lib; do
      [[ -d $d ]] && export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    done
    # Mesa drivers brought the same way bring their ICD files too.
    icds=$(ls "$work"/vulkan/usr/share/vulkan/icd.d/*.json 2>/dev/null | paste -sd: -)
    [[ -n $icds ]] && export VK_DRIVER_FILES=$icds VK_ICD_FILENAMES=$icds
  fi
  have_loader || say "warning: no Vulkan loader (libvulkan.so.1); pass --vulkan-debs DIR with libvulkan1_*.deb"
fi
say "Vulkan loader: $( (ldconfig -p 2>/dev/null | grep -m1 'libvulkan\.so\.1 ' | sed 's/.*=> //') || true)$(find_in_ld_path libvulkan.so.1 | head -1 | sed 's/^/ /')"
icd_files=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json 2>/dev/null | paste -sd' ' -)
say "Vulkan ICD files: ${icd_files:-none}${VK_DRIVER_FILES:+ (VK_DRIVER_FILES=$VK_DRIVER_FILES)}"
if command -v nvidia-smi >/dev/null; then
  say "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | paste -sd';' -)"
  [[ $icd_files == *nvidia* ]] || say "warning: no nvidia_icd.json: the NVIDIA driver was installed without its Vulkan part"
else
  say "nvidia-smi: not found"
fi

artiphys() { node "$repo/bin/artiphys.js" "$@"; }

# --- Adapter ----------------------------------------------------------------------------------
say ""
say "## artiphys doctor --json (webgpu)"
ARTIPHYS_BACKEND=webgpu artiphys doctor --json >"$out/doctor-webgpu.json" 2>>"$log"
doctor_rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const b = r.backend;
  console.log(b ? `backend ${b.name} on ${b.adapter ? `${b.adapter.description || b.adapter.device} (vendor ${b.adapter.vendor}, architecture ${b.adapter.architecture}, ${b.adapter.software ? "software" : "hardware"})` : "?"}` : `no backend: ${r.engineError}`);
  for (const a of r.gpu.adapters) console.log(`  adapter: ${a.description || a.device} (vendor ${a.vendor}, ${a.software ? "software" : "hardware"})`);
  if (r.gpu.adapterError) console.log(`  adapters: ${r.gpu.adapterError}`);
  if (r.gpu.cudaMissing) console.log(`  tfjs-node-gpu: ${r.gpu.cudaMissing}`);
' "$out/doctor-webgpu.json" 2>&1 | tee -a "$log"
software=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.backend?.adapter?.software?1:0)' "$out/doctor-webgpu.json" 2>/dev/null || echo 1)
artiphys doctor --json >"$out/doctor-auto.json" 2>>"$log"
say "auto would choose: $(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.chosen ? `${r.chosen.backend} (${r.chosen.why})` : r.engineError)' "$out/doctor-auto.json" 2>&1)"
if [[ $doctor_rc -ne 0 ]]; then
  fail "the webgpu backend does not start (see $out/doctor-webgpu.json)"
elif [[ $software == 1 && $allow_software == 0 ]]; then
  fail "the adapter is a software one (lavapipe/SwiftShader), not the GPU: check the NVIDIA ICD file and the driver (--allow-software goes on)"
fi

# --- Speed bench ------------------------------------------------------------------------------
if [[ ${#failures[@]} -eq 0 && $quick == 0 ]]; then
  for b in webgpu "$cpu_backend"; do
    say ""
    say "## npm run bench -- speed --json ($b)"
    t0=$(now)
    (cd "$repo" && ARTIPHYS_BACKEND=$b npm run --silent bench -- speed --json) >"$out/bench-speed-$b.json" 2>>"$log"
    rc=$?
    t1=$(now)
    cat "$out/bench-speed-$b.json" | tee -a "$log"
    say "(bench on $b: exit $rc, $(elapsed "$t0" "$t1") s)"
    [[ $rc -eq 0 ]] || fail "speed bench on $b"
  done
fi

# --- Diverse run of VGG-19 relu3_1 on webgpu --------------------------------------------------
if [[ ${#failures[@]} -eq 0 ]]; then
  say ""
  project=$work/gpu-check.artiphys
  artiphys project create "$project" --json >/dev/null 2>>"$log" || fail "project create"
  model_id=$(artiphys models import "$model" --project "$project" --json 2>>"$log" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
  if [[ -z $model_id ]]; then
    fail "importing $model"
  else
    if [[ $quick == 1 ]]; then
      units=0-1
      extra=(--max-steps 10 --lambdas 0,1 --images 2 --indices false)
      say "## diverse run, quick (2 units, 10 steps, no indices) of VGG-19 relu3_1 on webgpu"
    else
      units=0-15
      extra=()
      say "## diverse run, full defaults, 16 units of VGG-19 relu3_1 on webgpu"
    fi
    t0=$(now)
    ARTIPHYS_BACKEND=webgpu artiphys run diverse --model "$model_id" --layer relu3_1 --units "$units" "${extra[@]}" --seed 1 \
      --project "$project" --json >"$out/diverse-webgpu.json" 2>>"$log"
    rc=$?
    t1=$(now)
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const run = r.run ?? {};
      console.log(`status ${run.status}, backend ${run.backend}, ${(r.results ?? []).length} results${run.error ? `, error: ${run.error}` : ""}`);
    ' "$out/diverse-webgpu.json" 2>&1 | tee -a "$log"
    say "diverse wall time: $(elapsed "$t0" "$t1") s (exit $rc)"
    [[ $rc -eq 0 ]] || fail "diverse run on webgpu"
  fi
fi

say ""
if [[ ${#failures[@]} -eq 0 ]]; then
  say "gpu-check: all done; results in $out"
else
  say "gpu-check: ${#failures[@]} step(s) failed: ${failures[*]}; results in $out"
  exit 1
fi
