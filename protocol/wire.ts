/**
 * The contract between our own halves (edge, cloud, simulators, demo) that HJ 212 leaves to us: the
 * MQTT topics a frame travels on and the password loggers ship with. One home, so the edge that
 * publishes and the cloud that subscribes cannot drift apart.
 */

/** Root of every topic of ours. */
export const TOPIC_ROOT = 'hj212';

/** Where an edge publishes its HJ 212 frames (QoS 1), one frame a message. */
export const upTopic = (mn: string): string => `${TOPIC_ROOT}/${mn}/up`;

/** Where the cloud sends 9014 answers and platform commands back to the edge with this MN. */
export const downTopic = (mn: string): string => `${TOPIC_ROOT}/${mn}/down`;

/** Every station's up topic, as an MQTT subscription filter. */
export const UP_FILTER = `${TOPIC_ROOT}/+/up`;

const UP = /^hj212\/([^/]+)\/up$/;

/** The MN an up topic names, or undefined when the topic is not an up topic. */
export function mnOfUpTopic(topic: string): string | undefined {
  return UP.exec(topic)?.[1];
}

/**
 * The access password (PW) data loggers ship with from the factory: a warning sign wherever it is
 * met, never a credential accepted silently.
 */
export const DEFAULT_PASSWORD = '123456';
