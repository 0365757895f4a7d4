#!/usr/bin/env bash
# The secure Kafka of docker-compose.secure.yml, on the apache/kafka image: the same broker as
# `npm run kafka -- start --secure` (streams/broker/config.ts), for containers. A SASL/SCRAM
# listener, ACLs enforced, `admin` the super user; the SCRAM users are written into the metadata
# log when the storage is formatted (kafka-storage format --add-scram), their passwords read from
# the compose secrets. Topics and ACLs are granted afterwards by `kafka-setup`
# (npm run kafka -- grant), from the same table as the local broker's.
#
# Paths and names can be overridden (to try it outside a container): KAFKA_HOME, SECRETS_DIR,
# DATA_DIR, CONFIG_DIR, ADVERTISED_HOST.
set -euo pipefail
umask 077

KAFKA_HOME=${KAFKA_HOME:-/opt/kafka}
SECRETS_DIR=${SECRETS_DIR:-/run/secrets}
DATA_DIR=${DATA_DIR:-/var/lib/kafka/data}
CONFIG_DIR=${CONFIG_DIR:-/tmp/leakguard-kafka}
ADVERTISED_HOST=${ADVERTISED_HOST:-kafka}
USERS=(admin leakguard-stream leakguard-producer leakguard-console)

fail() {
  echo "secure-kafka: $*" >&2
  exit 2
}

# One line of a secret file. The charset keeps it out of trouble in JAAS quotes and in SCRAM's
# name=value list; the value itself is never printed.
secret() {
  local file="$SECRETS_DIR/$1.password" value
  [ -r "$file" ] || fail "cannot read $file (the $1 secret of docker-compose.secure.yml; readable by uid $(id -u))"
  value=$(head -n 1 "$file" | tr -d '\r\n')
  [[ "$value" =~ ^[A-Za-z0-9._~+/-]{16,}$ ]] || fail "$file must hold one line of at least 16 of A-Z a-z 0-9 . _ ~ + / - (e.g. openssl rand -hex 24)"
  printf '%s' "$value"
}

mkdir -p "$CONFIG_DIR" "$DATA_DIR"
ADMIN_PASSWORD=$(secret admin)
SCRAM_JAAS="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$ADMIN_PASSWORD\";"

# Read by the healthcheck (kafka-broker-api-versions.sh --command-config).
cat >"$CONFIG_DIR/admin.properties" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$SCRAM_JAAS
EOF

cat >"$CONFIG_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=BROKER://:9092,CONTROLLER://localhost:9093
advertised.listeners=BROKER://$ADVERTISED_HOST:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=BROKER
listener.security.protocol.map=BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
listener.name.broker.sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.broker.scram-sha-512.sasl.jaas.config=$SCRAM_JAAS
listener.name.broker.scram-sha-256.sasl.jaas.config=$SCRAM_JAAS
# The controller serves the SCRAM credentials, so it cannot check them: PLAIN, one static user,
# reached only by this broker on the container's loopback.
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$ADMIN_PASSWORD" user_admin="$ADMIN_PASSWORD";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=$DATA_DIR
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.partitions=6
EOF

if [ ! -f "$DATA_DIR/meta.properties" ]; then
  # The passwords reach the format tool through an @file, never its command line (ps).
  args="$CONFIG_DIR/format-scram.args"
  : >"$args"
  for user in "${USERS[@]}"; do
    password=$(secret "$user")
    for mechanism in SCRAM-SHA-512 SCRAM-SHA-256; do
      printf -- '--add-scram\n%s=[name=%s,password=%s]\n' "$mechanism" "$user" "$password" >>"$args"
    done
  done
  cluster_id=$("$KAFKA_HOME/bin/kafka-storage.sh" random-uuid)
  status=0
  "$KAFKA_HOME/bin/kafka-storage.sh" format --cluster-id "$cluster_id" --config "$CONFIG_DIR/server.properties" "@$args" || status=$?
  rm -f "$args"
  [ "$status" -eq 0 ] || fail "formatting $DATA_DIR failed (exit $status)"
  echo "secure-kafka: formatted $DATA_DIR with SCRAM users ${USERS[*]}"
else
  # Users live in the metadata log: a changed secret file does not change a password.
  echo "secure-kafka: $DATA_DIR is formatted; SCRAM users are those it was formatted with (kafka-configs.sh --alter --entity-type users to change a password)"
fi

exec "$KAFKA_HOME/bin/kafka-server-start.sh" "$CONFIG_DIR/server.properties"
