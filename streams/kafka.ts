// The kafkajs client of the processor and the producer helper: its logs go through the PAN-safe
// logger, its retries are patient enough to ride out a broker restart, and it authenticates and
// encrypts as the environment says (kafka-security.ts).
import kafkajs, { type Kafka as KafkaClient, type KafkaConfig, type logCreator, type SASLOptions } from 'kafkajs';
import { ConfigError } from '../services/config.ts';
import type { Logger } from '../services/logger.ts';
import { kafkaSecurityProblems, type KafkaSecurity } from './kafka-security.ts';

export type { KafkaSecurity } from './kafka-security.ts';

const { Kafka, logLevel } = kafkajs;

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

function kafkaLevel(pinoLevel: string): kafkajs.logLevel {
  switch (pinoLevel) {
    case 'silent':
      return logLevel.NOTHING;
    case 'fatal':
    case 'error':
      return logLevel.ERROR;
    case 'warn':
      return logLevel.WARN;
    case 'info':
      return logLevel.INFO;
    default:
      return logLevel.DEBUG;
  }
}

/** kafkajs log entries as structured lines of our logger (which masks card-number-shaped digits). */
export function kafkaLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      // kafkajs logs every error answer of the broker at ERROR and then retries it ("coordinator
      // not available" at every first join, leader elections, a broker restart): a warning here.
      // What kafkajs gives up on surfaces as a consumer crash, which the processor logs as an error.
      const method = level === logLevel.ERROR && namespace === 'Connection' ? 'warn' : (LEVELS[level] ?? 'info');
      child[method]({ namespace, ...extra }, message);
    };
}

/** KAFKA_SASL_* and KAFKA_TLS* from the environment; a bad value is a ConfigError naming the variable. */
export function loadKafkaSecurity(env: Record<string, string | undefined> = process.env): KafkaSecurity {
  const { security, problems } = kafkaSecurityProblems(env);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  return security;
}

/** The kafkajs settings of a KafkaSecurity: every Leakguard client connects through these. */
export function kafkaSecurityOptions(security: KafkaSecurity = {}): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  return {
    ...(security.tls ? { ssl: security.tls.ca ? { ca: [security.tls.ca] } : true } : {}),
    // kafkajs types each mechanism apart; a ScramMechanism is one of its own.
    ...(security.sasl ? { sasl: { ...security.sasl } as SASLOptions } : {}),
  };
}

export function createKafka(options: {
  brokers: string[];
  clientId: string;
  logger: Logger;
  security?: KafkaSecurity;
  extra?: Partial<KafkaConfig>;
}): KafkaClient {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...kafkaSecurityOptions(options.security),
    logLevel: kafkaLevel(options.logger.level),
    logCreator: kafkaLogCreator(options.logger),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    // About a minute of reconnect attempts before an operation gives up (and the consumer restarts).
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 },
    ...options.extra,
  });
}
