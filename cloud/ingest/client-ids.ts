/**
 * Which login may use which MQTT client id. A broker keys sessions by client id: a login that
 * presents another's id takes over its session (the requests queued for it, HJ 212 PW included) and
 * kicks it off. So a client id is owned, and only its owner may connect with it:
 * - a device (user name = MN) owns every id whose first MN-shaped part (split on '-') is its MN:
 *   `MN`, `hj212-edge-MN-uplink`, `dev-MN-3`;
 * - an observer owns its user name and `username-anything`, if no part of it is MN-shaped.
 * MNs are 14-24 letters or digits (no '-'), so no id has two owners.
 */
const MN_SHAPED = /^[0-9A-Za-z]{14,24}$/;

/** Whether a string has the shape of an MN (and so cannot be an observer's user name). */
export const mnShaped = (s: string): boolean => MN_SHAPED.test(s);

/** The MN a client id belongs to, if any part of it is MN-shaped. */
export const mnOfClientId = (id: string): string | undefined => id.split('-').find(mnShaped);

export const deviceOwns = (mn: string, id: string): boolean => mnOfClientId(id) === mn;

export const observerOwns = (username: string, id: string): boolean =>
  mnOfClientId(id) === undefined && (id === username || id.startsWith(`${username}-`));
