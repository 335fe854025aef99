#!/bin/sh
set -eu
token=$(aibc_secret '{{token}}')
printf 'Support (%s): ask with token length %s\n' '{{level}}' "${#token}" | sudo tee /etc/motd >/dev/null
