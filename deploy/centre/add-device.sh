#!/bin/sh
# Gives a device (user name = its MN) an MQTT login on both brokers and prints the secret once; put
# the secret's scrypt hash in the registry (`hj212 cloud hash SECRET` → mqttSecretHash).
set -eu
cd "$(dirname "$0")"
MN="$1"
echo "$MN" | grep -Eq '^[0-9A-Za-z]{14,24}$' || { echo "usage: $0 MN (14-24 letters or digits)" >&2; exit 2; }
SECRET=$(openssl rand -base64 24 | tr -d '/+=\n')
# The secret goes in on stdin (printf is a shell builtin): never on a command line that ps shows.
printf '%s\n%s\n' "$SECRET" "$SECRET" |
  docker run --rm -i -v "$PWD/mosquitto:/m" eclipse-mosquitto:2 mosquitto_passwd /m/hj212.passwd "$MN" >/dev/null
salt=$(openssl rand -hex 8)
hash=$(printf '%s%s' "$SECRET" "$salt" | openssl dgst -sha256 -r | cut -d' ' -f1)
echo "$MN,$hash,$salt,false" >> emqx/users.csv
echo "MQTT secret for $MN: $SECRET"
echo "Mosquitto: docker compose kill -s SIGHUP mosquitto (reloads the password file). EMQX reads users.csv at first start only; add later devices with its API or dashboard."
