import { encodeBigEndian, getBinaryNodeChild, getBinaryNodeChildren, type BinaryNode } from '../baileys';

/** Small helpers for building and reading binary nodes. */

export const SERVER_JID = 's.whatsapp.net';

export function unixSeconds(): string {
  return String(Math.floor(Date.now() / 1000));
}

export function iqResult(request: BinaryNode, content?: BinaryNode[]): BinaryNode {
  return { tag: 'iq', attrs: { from: SERVER_JID, type: 'result', id: request.attrs.id }, content };
}

export function children(node: BinaryNode | undefined): BinaryNode[] {
  return Array.isArray(node?.content) ? (node.content as BinaryNode[]) : [];
}

export function child(node: BinaryNode | undefined, tag: string): BinaryNode | undefined {
  return getBinaryNodeChild(node, tag);
}

export function childrenByTag(node: BinaryNode | undefined, tag: string): BinaryNode[] {
  return getBinaryNodeChildren(node, tag);
}

export function bytes(node: BinaryNode | undefined): Buffer | undefined {
  const content = node?.content;
  if (content instanceof Uint8Array) return Buffer.from(content);
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  return undefined;
}

export function uintOf(node: BinaryNode | undefined): number | undefined {
  const b = bytes(node);
  if (!b || b.length === 0 || b.length > 6) return undefined;
  return b.readUIntBE(0, b.length);
}

export function leaf(tag: string, content: Uint8Array | string, attrs: Record<string, string> = {}): BinaryNode {
  return { tag, attrs, content: typeof content === 'string' ? Buffer.from(content) : content };
}

export function bigEndian(value: number, size = 4): Buffer {
  return Buffer.from(encodeBigEndian(value, size));
}
