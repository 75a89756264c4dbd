// Which IPv4 blocks the stack can use for its VPC: the subnetting (network.ts) must produce
// subnets AWS accepts (docs/deploy.md, "Sizes, flags and egress the config accepts").

/** The stack splits its VPC's CIDR into 2^SUBNET_NEW_BITS equal blocks and uses the first as subnets. */
export const SUBNET_NEW_BITS = 4;
/** AWS accepts VPC and subnet blocks from /16 to /28. */
const AWS_BLOCK_PREFIX = { largest: 16, smallest: 28 };
const VPC_CIDR_RULE = `must be an IPv4 CIDR block from /${AWS_BLOCK_PREFIX.largest} to /${AWS_BLOCK_PREFIX.smallest - SUBNET_NEW_BITS} (its subnets are ${SUBNET_NEW_BITS} bits smaller and AWS's smallest subnet is a /${AWS_BLOCK_PREFIX.smallest}), e.g. 10.42.0.0/16`;

/** Why `cidr` cannot be the stack's VPC block, or undefined when it can. */
export function vpcCidrProblem(cidr: string): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const prefix = Number(match?.[5]);
  if (
    !match ||
    octets.some((o) => o > 255) ||
    prefix < AWS_BLOCK_PREFIX.largest ||
    prefix > AWS_BLOCK_PREFIX.smallest - SUBNET_NEW_BITS
  ) {
    return VPC_CIDR_RULE;
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) {
    const base = address - (address % size);
    const start = [24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256).join(".");
    return `must start at its block's first address (${start}/${prefix}): AWS rejects host bits`;
  }
  return undefined;
}
