// What the local broker is: one KRaft node that is both broker and controller, on loopback only,
// sized for a shared 2-core machine. Rendered fresh on every start, so ports may change between
// runs while the data (topics, committed offsets) stays.
import { join } from 'node:path';

export const NODE_ID = 1;

export interface BrokerLayout {
  brokerPort: number;
  controllerPort: number;
  stateDir: string;
  /** Extra or replaced broker settings (e.g. { 'auto.create.topics.enable': 'true' }). */
  overrides?: Record<string, string>;
  /** A secure broker: SASL/SCRAM on the client listener, ACLs enforced (see secureProperties). */
  secure?: BrokerSecrets;
}

/** What server.properties of a secure broker holds (the file is mode 0600). */
export interface BrokerSecrets {
  /** SCRAM password of the super user: the broker's own inter-broker identity too. */
  adminPassword: string;
  /** PLAIN password of the controller listener, used only by the broker to reach its controller. */
  controllerPassword: string;
}

/** The super user of a secure broker (super.users); it creates the topics and grants the ACLs. */
export const ADMIN_USER = 'admin';
/** Every SCRAM user exists for both mechanisms, so a client may pick either. */
export const SCRAM_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const;

export interface Grant {
  resource: 'topic' | 'group';
  name: string;
  operation: 'read' | 'write';
}

export interface SecureUser {
  name: string;
  /** What it is for, written beside its password in credentials.json. */
  role: string;
  grants: Grant[];
}

/**
 * The users of a secure broker, least privilege each: the processor reads transactions and writes
 * decisions (never transactions), the merchants' feed only writes transactions, the console only
 * writes labels. Read and write imply describe; no one but the admin may create topics (they are
 * created at start) or read the transactions, which carry card numbers.
 */
export function secureUsers(names: {
  transactions: string;
  decisions: string;
  flagged: string;
  deadLetter: string;
  group: string;
  labels: string;
  records: string;
}): SecureUser[] {
  const topic = (name: string, operation: Grant['operation']): Grant => ({ resource: 'topic', name, operation });
  return [
    { name: ADMIN_USER, role: 'super user: creates topics, grants ACLs (broker-internal identity too)', grants: [] },
    {
      name: 'leakguard-stream',
      role: `the stream processor (npm run stream): reads ${names.transactions}, writes ${names.decisions}, ${names.flagged}, ${names.deadLetter}, ${names.records}, consumer group ${names.group}`,
      grants: [
        topic(names.transactions, 'read'),
        topic(names.decisions, 'write'),
        topic(names.flagged, 'write'),
        topic(names.deadLetter, 'write'),
        topic(names.records, 'write'),
        { resource: 'group', name: names.group, operation: 'read' },
      ],
    },
    {
      name: 'leakguard-producer',
      role: `the merchants' feed: writes ${names.transactions}`,
      grants: [topic(names.transactions, 'write')],
    },
    {
      name: 'leakguard-console',
      role: `the engine (npm start): writes ${names.labels} and its recording, ${names.records}`,
      grants: [topic(names.labels, 'write'), topic(names.records, 'write')],
    },
  ];
}

/**
 * Listeners and authorization of a secure broker. Clients reach BROKER (SASL_PLAINTEXT, SCRAM;
 * the SCRAM users are written into the metadata log when the storage is formatted, which is also
 * how the broker's own admin identity exists before the broker runs). The controller listener,
 * which only the broker itself uses, takes PLAIN with one static user: SCRAM credentials live in
 * the metadata the controller serves, so it cannot authenticate with them. Loopback only, no TLS:
 * a local broker for development and tests.
 */
function secureProperties(layout: BrokerLayout, secrets: BrokerSecrets): Record<string, string> {
  const { brokerPort, controllerPort } = layout;
  // The broker's own client side of SCRAM (inter-broker); the server side needs no options.
  const adminJaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${ADMIN_USER}" password="${secrets.adminPassword}";`;
  return {
    listeners: `BROKER://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `BROKER://127.0.0.1:${brokerPort}`,
    'listener.security.protocol.map': 'BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT',
    'inter.broker.listener.name': 'BROKER',
    'sasl.enabled.mechanisms': SCRAM_MECHANISMS.join(','),
    'listener.name.broker.sasl.enabled.mechanisms': SCRAM_MECHANISMS.join(','),
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.broker.scram-sha-512.sasl.jaas.config': adminJaas,
    'listener.name.broker.scram-sha-256.sasl.jaas.config': adminJaas,
    'listener.name.controller.sasl.enabled.mechanisms': 'PLAIN',
    'sasl.mechanism.controller.protocol': 'PLAIN',
    'listener.name.controller.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="${ADMIN_USER}" password="${secrets.controllerPassword}" user_${ADMIN_USER}="${secrets.controllerPassword}";`,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `User:${ADMIN_USER}`,
    // The default, stated: a resource without ACLs is closed to everyone but the super user.
    'allow.everyone.if.no.acl.found': 'false',
  };
}

export const dataDir = (stateDir: string): string => join(stateDir, 'data');

export function serverProperties(layout: BrokerLayout): Record<string, string> {
  const { brokerPort, controllerPort, stateDir } = layout;
  return {
    'process.roles': 'broker,controller',
    'node.id': String(NODE_ID),
    // A static voter set (not a dynamic --standalone quorum): voter endpoints are not written into
    // the metadata log, so a restart may pick new ports when the old ones are taken.
    'controller.quorum.voters': `${NODE_ID}@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${brokerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir(stateDir),

    // One node: every internal topic has one replica.
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    // 50 partitions each by default: creating them is the slowest part of a first group join.
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.num.partitions': '10',
    // Tests and benchmarks join groups constantly; production's 3 s settle delay only slows them.
    'group.initial.rebalance.delay.ms': '0',

    // Topics are created on purpose (by the stream processor's topic definitions or the tests),
    // as on a production cluster: a typo in a topic name fails instead of inventing a topic.
    'auto.create.topics.enable': 'false',
    'num.partitions': '3',

    // A local broker keeps hours, not a week, and a bounded size per partition.
    'log.retention.hours': '6',
    'log.retention.bytes': String(256 * 1024 * 1024),
    'log.segment.bytes': String(64 * 1024 * 1024),
    'log.retention.check.interval.ms': '60000',

    // Two shared cores: fewer threads than Kafka's server-sized defaults (3 network, 8 io).
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'background.threads': '4',
    'log.cleaner.threads': '1',
    ...(layout.secure ? secureProperties(layout, layout.secure) : {}),
    ...layout.overrides,
  };
}

/** java.util.Properties text; values escaped so any path survives. */
export function renderProperties(props: Record<string, string>, header: string): string {
  const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return `# ${header}\n${Object.entries(props)
    .map(([key, value]) => `${key}=${escape(value)}`)
    .join('\n')}\n`;
}

/**
 * log4j2 for the broker: a size-capped rolling file in the state dir (Kafka's own config writes
 * five files under the install dir, which is a read-only cache here).
 */
export function brokerLog4j(logFile: string): string {
  return `# Generated by streams/broker: the local broker's logging.
status = warn
name = leakguard-kafka
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = ${logFile}
appender.file.filePattern = ${logFile}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
# Per-request logging is for debugging the broker itself.
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;
}

/** log4j2 for one-shot tools (storage format): warnings only, to the console we capture. */
export const TOOL_LOG4J = `status = warn
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.console.ref = STDERR
`;
