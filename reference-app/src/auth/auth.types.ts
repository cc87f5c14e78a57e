/** What an authenticated request carries as req.user. */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface User {
      id: string;
      /** The access token's `jti` and `exp` (seconds), present when authenticated by a bearer token. */
      tokenId?: string;
      tokenExpiresAt?: number;
    }
  }
}

export {};
