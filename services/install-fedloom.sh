#!/bin/sh
# The build stage of every FedLoom image: /opt/fedloom, a virtual environment with torch from the wheel
# index given as $1 (CPU or CUDA builds) and the package folders given after it (the core package in
# /src/shared and the image's own service); and /skeleton, the folders the runtime user (uid 10001) may
# write to, copied into the runtime stage with that owner.
set -eu
index_url="$1"
shift
python -m venv /opt/fedloom
/opt/fedloom/bin/pip install --no-cache-dir --disable-pip-version-check --index-url "$index_url" \
    torch==2.14.1 torchvision==0.29.1
/opt/fedloom/bin/pip install --no-cache-dir --disable-pip-version-check "$@"
mkdir -p /skeleton/var/lib/fedloom/agent /skeleton/var/lib/fedloom/artifacts
