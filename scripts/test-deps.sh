#!/usr/bin/env bash
# Installs what the test suite drives Overcast with, when it is missing:
# Debian's AWS CLI v2 (awscli) and boto3 (python3-boto3). The image's pip AWS
# CLI v1 and boto3 are used as they are. Without root, nothing is installed
# and the tests that need a missing client are skipped with a message.
set -euo pipefail

need=()
[ -x /usr/bin/aws ] || need+=(awscli)
/usr/bin/python3 -c 'import boto3' 2>/dev/null || need+=(python3-boto3)

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "test-deps: not root; not installing ${need[*]}" >&2
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
