import { createHash, randomBytes } from 'node:crypto';
import { generatePassword, PASSWORD_ALPHABET } from './password-generator';
import { PasswordHasher } from './password-hasher';
import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  const sut = new SecretBox(randomBytes(32));

  it('round-trips and never stores the plaintext', () => {
    const sealed = sut.encrypt('hunter2-password');
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain('hunter2');
    expect(sut.decrypt(sealed)).toBe('hunter2-password');
  });

  it('uses a fresh IV every time', () => {
    expect(sut.encrypt('same')).not.toBe(sut.encrypt('same'));
  });

  it('refuses a tampered secret and a wrong key', () => {
    const sealed = sut.encrypt('secret');
    const parts = sealed.split(':');
    parts[3] = Buffer.from('tampered').toString('base64');
    expect(() => sut.decrypt(parts.join(':'))).toThrow();
    expect(() => new SecretBox(randomBytes(32)).decrypt(sealed)).toThrow();
  });

  it('digests with a key of its own: stable for one key, not a plain SHA-256', () => {
    const text = 'POST /api/user\n{"password":"hunter2"}';
    const box = new SecretBox(randomBytes(32));
    expect(box.digest(text)).toBe(box.digest(text));
    expect(box.digest(text)).toMatch(/^[0-9a-f]{64}$/);
    expect(box.digest(text)).not.toBe(createHash('sha256').update(text).digest('hex'));
    expect(new SecretBox(randomBytes(32)).digest(text)).not.toBe(box.digest(text));
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow();
  });
});

describe('PasswordHasher', () => {
  const sut = new PasswordHasher();

  it('verifies the right password only', async () => {
    const hash = await sut.hash('123456');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    await expect(sut.verify('123456', hash)).resolves.toBe(true);
    await expect(sut.verify('1234567', hash)).resolves.toBe(false);
    await expect(sut.verify('123456', 'garbage')).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await sut.hash('same')).not.toBe(await sut.hash('same'));
  });
});

describe('generatePassword', () => {
  it('draws 24 characters from an alphabet without look-alikes', () => {
    const passwords = Array.from({ length: 200 }, () => generatePassword());
    expect(new Set(passwords).size).toBe(200);
    for (const password of passwords) {
      expect(password).toHaveLength(24);
      for (const char of password) expect(PASSWORD_ALPHABET).toContain(char);
    }
    expect(PASSWORD_ALPHABET).not.toMatch(/[0O1lI]/);
  });
});
