/** IPv4 arithmetic for hpc networks (pure). */
export function ipToInt(ip: string): number {
  return ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export interface Subnet {
  network: number;
  prefix: number;
  size: number;
  gateway: string;
  netmask: string;
  /** Fixed node addresses come before the DHCP range; the range is the upper half. */
  rangeStart: string;
  rangeEnd: string;
}

export function parseCidr(cidr: string): Subnet {
  const [ip, p] = cidr.split("/") as [string, string];
  const prefix = Number(p);
  const octets = ip.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255) || !(prefix >= 8 && prefix <= 28)) {
    throw new Error(`${cidr} is not an IPv4 CIDR with a prefix from /8 to /28`);
  }
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ipToInt(ip) / size) * size;
  return {
    network,
    prefix,
    size,
    gateway: intToIp(network + 1),
    netmask: intToIp(2 ** 32 - size),
    rangeStart: intToIp(network + size / 2),
    rangeEnd: intToIp(network + size - 2),
  };
}
