/** The cloud ingest a monitoring centre runs: HJ 212 in over TCP, stored, queryable. */
export { CloudConfigSchema, loadCloudConfig, expandEnv, type CloudConfig, type CloudConfigInput } from './config.js';
export { startCloud, type Cloud, type CloudOptions } from './service.js';
export {
  Registry,
  RegistrySchema,
  StationSchema,
  ConfigError,
  type Station,
  type StationInput,
  type RegistryInput,
  type Shutdown,
} from './registry.js';
export { Authenticator, type AuthResult } from './auth.js';
export { hashSecret, verifySecret, DEFAULT_PASSWORD } from './secrets.js';
export { importCsv, parseCsv, type CsvImport } from './csv-import.js';
export { watchRegistry } from './watch.js';
export { Ingest, type IngestStats, type Verdict, type Via } from './ingest/ingest.js';
export { pointsOf, DATA_CN } from './ingest/points.js';
export { TcpListener, TcpOptionsSchema, type TcpOptions } from './ingest/tcp.js';
export { MqttOptionsSchema, type MqttOptions, type MqttInput } from './ingest/mqtt.js';
export { upTopic, downTopic } from '../protocol/wire.js';
export { SqliteStore, openSqlite } from './store/sqlite.js';
export { InfluxStore, InfluxOptionsSchema, type InfluxOptions } from './store/influx.js';
export { fromLine, lineRuns, toLine, type LineRun } from './store/line-protocol.js';
export { KindSchema, type Kind, type Point, type PointQuery, type MeasurementStore } from './store/types.js';
export { RuleEngine, RulesOptionsSchema, type RulesOptions } from './rules/engine.js';
export {
  judge,
  judgedValue,
  exceedance,
  judgePoint,
  limitConditions,
  limitFor,
  judgedKinds,
  isAssessed,
  ALARM_TYPES,
  valueConditions,
  nextRun,
  isValid,
  type Condition,
  type AlarmType,
  type Judgement,
  type Run,
} from './rules/judge.js';
export { missingHours, hoursBetween, HOUR } from './rules/missing.js';
export { AlarmStore, AlarmFilterSchema, type Alarm, type AlarmFilter } from './alarms/store.js';
export { makeNotifier, eventKey, type Notify, type AlarmEvent } from './alarms/notify.js';
export { WebhookOutbox, type WebhookOptions } from './alarms/webhooks.js';
export { ShutdownStore, ShutdownBodySchema } from './shutdowns.js';
export {
  factorRates,
  expectedHours,
  pooled,
  ratesOf,
  periodBounds,
  type FactorRates,
  type Rates,
  type RateRules,
} from './rules/rates.js';
export { BackfillStore, type Backfill } from './alarms/backfills.js';
export {
  outletPeriod,
  stationRates,
  enterprisesOf,
  periodReport,
  reportCsv,
  assessedFactors,
  type OutletPeriod,
  type EnterprisePeriod,
} from './api/report.js';
export { startApi, HttpOptionsSchema, type HttpOptions } from './api/server.js';
export { ApiTokenSchema, sha256, type ApiToken } from './api/auth.js';
export type { ApiContext } from './api/server.js';
export type * from './api/schemas.js';
