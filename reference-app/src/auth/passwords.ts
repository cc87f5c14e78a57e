import bcrypt from 'bcrypt';

/** Hashing and checking passwords at one cost; unknown users are checked against a dummy hash. */
export class Passwords {
  private readonly dummyHash: Promise<string>;

  constructor(private readonly cost: number) {
    // Made up front so the first unknown-email login costs what every other login costs.
    this.dummyHash = bcrypt.hash('not-a-real-password', cost);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  /** With no hash (unknown email) it still spends one bcrypt comparison, so timing does not tell. */
  async matches(password: string, hash: string | undefined): Promise<boolean> {
    if (hash !== undefined) return bcrypt.compare(password, hash);
    await bcrypt.compare(password, await this.dummyHash);
    return false;
  }
}
