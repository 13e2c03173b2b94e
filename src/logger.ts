import pino from 'pino';

export type Logger = pino.Logger;

/** Fields that must never reach a log, wherever they appear in a logged object. */
const SECRETS = ['password', 'passwordHash', 'password_hash', 'token', 'accessToken', 'current', 'new'];

export function createLogger(level: pino.LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          ...SECRETS,
          ...SECRETS.map((key) => `*.${key}`),
          ...SECRETS.map((key) => `*.*.${key}`),
          'headers.authorization',
          'req.headers.authorization',
          'variables',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
