/**
 * Recipients as the API accepts them: a full JID of a person (`@s.whatsapp.net`),
 * a group (`@g.us`) or a hidden-number identity (`@lid`), or bare digits with
 * the country code, which name a person. Anything else (device suffixes,
 * broadcast lists, `@c.us`, spaces) is refused rather than guessed at.
 */
const BARE_NUMBER = /^\+?(\d{6,15})$/;
const PERSON = /^(\d{6,15})@s\.whatsapp\.net$/;
const GROUP = /^(\d{5,20}(-\d{5,20})?)@g\.us$/;
const LID = /^(\d{1,20})@lid$/;

/** The normalised JID, or undefined when `to` is not an accepted recipient. */
export function normaliseRecipient(to: string): string | undefined {
  if (typeof to !== 'string') return undefined;
  const value = to.trim();
  const bare = BARE_NUMBER.exec(value);
  if (bare) return `${bare[1]}@s.whatsapp.net`;
  if (PERSON.test(value) || GROUP.test(value) || LID.test(value)) return value;
  return undefined;
}

export const RECIPIENT_RULE = 'a JID ending in @s.whatsapp.net, @g.us or @lid, or the phone number in digits with its country code';
