#!/usr/bin/env bash
# Builds the container image on a machine with Docker: scripts/build-image.sh [tag]
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-pipeops-agent:$(node -p 'require("./package.json").version')}"
docker build --tag "$tag" .
echo "built $tag"
