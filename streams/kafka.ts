// The kafkajs client of the processor and the producer helper: its logs go through the PAN-safe
// logger, its retries are patient enough to ride out a broker restart.
import kafkajs, { type Kafka as KafkaClient, type KafkaConfig, type logCreator } from 'kafkajs';
import type { Logger } from '../services/logger.ts';

const { Kafka, logLevel } = kafkajs;

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

function kafkaLevel(pinoLevel: string): kafkajs.logLevel {
  switch (pinoLevel) {
    case 'silent': return logLevel.NOTHING;
    case 'fatal':
    case 'error': return logLevel.ERROR;
    case 'warn': return logLevel.WARN;
    case 'info': return logLevel.INFO;
    default: return logLevel.DEBUG;
  }
}

/** kafkajs log entries as structured lines of our logger (which masks card-number-shaped digits). */
export function kafkaLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () => ({ namespace, level, log }) => {
    const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
    // kafkajs logs every error answer of the broker at ERROR and then retries it ("coordinator
    // not available" at every first join, leader elections, a broker restart): a warning here.
    // What kafkajs gives up on surfaces as a consumer crash, which the processor logs as an error.
    const method = level === logLevel.ERROR && namespace === 'Connection' ? 'warn' : (LEVELS[level] ?? 'info');
    child[method]({ namespace, ...extra }, message);
  };
}

export function createKafka(options: { brokers: string[]; clientId: string; logger: Logger; extra?: Partial<KafkaConfig> }): KafkaClient {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: kafkaLevel(options.logger.level),
    logCreator: kafkaLogCreator(options.logger),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    // About a minute of reconnect attempts before an operation gives up (and the consumer restarts).
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 },
    ...options.extra,
  });
}
