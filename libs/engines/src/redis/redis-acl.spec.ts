import { createHash } from 'node:crypto';
import {
  COMMAND_REVIEW,
  COMMAND_RULES,
  commandRules,
  escapeGlob,
  keyPattern,
  passwordRule,
  prefixesOfAclLine,
  WRITES_BLOCKED_RULES,
} from './redis-acl';

describe('Redis ACL rules', () => {
  it('escapes every glob metacharacter', () => {
    expect(escapeGlob('a*b?c[d]e\\f^g-h')).toBe('a\\*b\\?c\\[d\\]e\\\\f\\^g\\-h');
    expect(escapeGlob('shop_1')).toBe('shop_1');
  });

  it('confines a database to the keys of its prefix', () => {
    expect(keyPattern('shop')).toBe('shop:*');
    expect(keyPattern('a*')).toBe('a\\*:*');
  });

  it('sends a password as its SHA-256, never as plaintext', () => {
    expect(passwordRule('pw')).toBe('#' + createHash('sha256').update('pw').digest('hex'));
    expect(passwordRule('pw')).not.toContain('pw');
  });

  it('reads the prefixes of an ACL LIST line, read/write selectors included', () => {
    const line =
      'user app on #abc ~shop:* %R~reports:* %RW~logs_2:* ~Bad:* ~no_star: ~other:*x resetchannels &shop:* -@all';
    expect(prefixesOfAclLine(line)).toEqual(['shop', 'reports', 'logs_2']);
    expect(prefixesOfAclLine('user default on nopass ~* &* +@all')).toEqual([]);
  });

  it('removes, after the additions, every command the review denies by name', () => {
    for (const [level, rules] of Object.entries(COMMAND_RULES)) {
      const removals = rules.filter((rule) => rule.startsWith('-') && !rule.startsWith('-@'));
      const lastAddition = Math.max(...rules.map((rule, i) => (rule.startsWith('+') ? i : -1)));
      expect({ level, firstRemoval: rules.findIndex((rule) => rule.startsWith('-')) }).toEqual({
        level,
        firstRemoval: lastAddition + 1,
      });
      for (const rule of removals)
        expect([rule, COMMAND_REVIEW[rule.slice(1)]?.[0]]).toEqual([rule, 'deny']);
      for (const denied of [
        '-@dangerous',
        '-@admin',
        '-select',
        '-copy',
        '-flushall',
        '-function',
        '-script|flush',
        '-script|kill',
        '-scan',
        '-keys',
      ]) {
        expect({ level, rules }).toEqual({ level, rules: expect.arrayContaining([denied]) });
      }
    }
    expect(COMMAND_RULES['read-only']).not.toContain('+@all');
    expect(COMMAND_RULES['read-only']).not.toContain('+@write');
  });

  it('blocks writes but keeps DEL, UNLINK and EXPIRE over the size limit; read-only keeps its rules', () => {
    expect(commandRules('owner', false)).toEqual(COMMAND_RULES.owner);
    expect(commandRules('owner', true)).toEqual([
      ...COMMAND_RULES.owner,
      '-@write',
      '+del',
      '+unlink',
      '+expire',
    ]);
    expect(commandRules('read-write', true).slice(-4)).toEqual(WRITES_BLOCKED_RULES);
    expect(commandRules('read-only', true)).toEqual(COMMAND_RULES['read-only']);
  });
});
