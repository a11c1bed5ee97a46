#!/usr/bin/env bash
# Installed size of a Python environment without torch: bench/env_size.sh VENV_DIR PIP_ARGS...
#   bench/env_size.sh /tmp/agent-env shared services/client_agent     # the agent image's packages
# torch and torchvision get stand-in metadata so pip takes them as installed (their wheels are CPU or CUDA
# builds of very different sizes); torchvision's own needs (numpy, pillow) are installed and counted.
# Prints the KiB that the install added and the packages it left.
set -euo pipefail
dir=$1; shift
rm -rf "$dir"; python3 -m venv "$dir"
"$dir/bin/pip" install -q --upgrade pip >/dev/null 2>&1
sp=$("$dir/bin/python" -c "import site; print(site.getsitepackages()[0])")
for pkg in torch:2.14.1 torchvision:0.29.1; do
  name=${pkg%%:*}; ver=${pkg##*:}
  mkdir -p "$sp/$name-$ver.dist-info"
  printf "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" "$name" "$ver" > "$sp/$name-$ver.dist-info/METADATA"
  [ "$name" = torchvision ] && printf "Requires-Dist: numpy\nRequires-Dist: pillow>=5.3.0\n" >> "$sp/$name-$ver.dist-info/METADATA"
  echo pip > "$sp/$name-$ver.dist-info/INSTALLER"; : > "$sp/$name-$ver.dist-info/RECORD"
done
before=$(du -sk "$sp" | cut -f1)
"$dir/bin/pip" install -q "$@" numpy "pillow>=5.3.0" 2>&1 | grep -v -E "WARNING|Warning|^ |^$" || true
after=$(du -sk "$sp" | cut -f1)
echo "installed_kib=$((after - before))"
"$dir/bin/pip" list --format=freeze 2>/dev/null | grep -v -E "^(pip|setuptools)==" | tr '\n' ' '; echo
