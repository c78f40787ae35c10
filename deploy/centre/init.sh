#!/bin/sh
# One-time set-up of deploy/centre: random secrets in .env, a private CA and a server certificate for
# TLS (replace with your own CA's for production if you have one), and the broker password file with
# the `ingest` account. Devices are added with ./add-device.sh MN (docs/operators.md).
set -eu
cd "$(dirname "$0")"
HOST="${1:-mqtt.example.org}"
secret() { openssl rand -base64 32 | tr -d '/+=\n' | cut -c1-32; }

if [ ! -f .env ]; then
  umask 077
  printf 'INFLUX_ADMIN_PASSWORD=%s\nINFLUX_TOKEN=%s\nINGEST_MQTT_PASSWORD=%s\nPOSTGRES_PASSWORD=%s\n' \
    "$(secret)" "$(secret)" "$(secret)" "$(secret)" > .env
  echo "wrote .env (keep it secret, back it up)"
fi
# A .env from before the cluster's PostgreSQL: add its password, leave the others as they are. It is
# PostgreSQL's superuser password, set when its volume is first initialized (changing it here later
# does not change it there).
if ! grep -q '^POSTGRES_PASSWORD=' .env; then
  printf 'POSTGRES_PASSWORD=%s\n' "$(secret)" >> .env
  echo "added POSTGRES_PASSWORD to .env"
fi
. ./.env

mkdir -p certs
if [ ! -f certs/ca.crt ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=hj212 centre CA" -keyout certs/ca.key -out certs/ca.crt
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout certs/server.key -out certs/server.csr
  printf 'subjectAltName=DNS:%s,DNS:mosquitto,DNS:emqx,DNS:localhost\n' "$HOST" > certs/san.ext
  openssl x509 -req -in certs/server.csr -CA certs/ca.crt -CAkey certs/ca.key -CAcreateserial -days 825 -extfile certs/san.ext -out certs/server.crt
  (umask 077 && cat certs/server.crt certs/server.key > certs/server.pem)
  # Private keys (and the PEM that holds one) for their owner only; certificates for all to read. A
  # broker that drops to its own user in its container needs the key owned by that user (chown).
  chmod 0600 certs/ca.key certs/server.key certs/server.pem
  chmod 0644 certs/ca.crt certs/server.crt
  echo "wrote certs/ (CA: certs/ca.crt goes on every device)"
fi

if [ ! -f mosquitto/hj212.passwd ]; then
  : > mosquitto/hj212.passwd
  # The password goes in on stdin (printf is a shell builtin): never on a command line that ps shows.
  printf '%s\n%s\n' "$INGEST_MQTT_PASSWORD" "$INGEST_MQTT_PASSWORD" |
    docker run --rm -i -v "$PWD/mosquitto:/m" eclipse-mosquitto:2 mosquitto_passwd /m/hj212.passwd ingest >/dev/null
  echo "wrote mosquitto/hj212.passwd (ingest)"
fi
salt=$(openssl rand -hex 8)
hash=$(printf '%s%s' "$INGEST_MQTT_PASSWORD" "$salt" | openssl dgst -sha256 -r | cut -d' ' -f1)
grep -q '^ingest,' emqx/users.csv || echo "ingest,$hash,$salt,false" >> emqx/users.csv
