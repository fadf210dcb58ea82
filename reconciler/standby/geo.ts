/**
 * Continent of a Vast.ai offer from its geolocation ("US, CA", "Germany, DE", "Japan, JP"): the last
 * two-letter token is an ISO country code. Used to place the standby on the same continent.
 */
const CONTINENT_OF_COUNTRY: Readonly<Record<string, string>> = {
  US: "NA", CA: "NA", MX: "NA",
  BR: "SA", AR: "SA", CL: "SA", CO: "SA", PE: "SA",
  GB: "EU", IE: "EU", FR: "EU", DE: "EU", NL: "EU", BE: "EU", LU: "EU", ES: "EU", PT: "EU", IT: "EU", CH: "EU", AT: "EU",
  PL: "EU", CZ: "EU", SK: "EU", HU: "EU", RO: "EU", BG: "EU", GR: "EU", SE: "EU", NO: "EU", FI: "EU", DK: "EU", EE: "EU",
  LV: "EU", LT: "EU", UA: "EU", RS: "EU", HR: "EU", SI: "EU", IS: "EU", MD: "EU",
  JP: "AS", KR: "AS", CN: "AS", HK: "AS", TW: "AS", SG: "AS", IN: "AS", TH: "AS", VN: "AS", MY: "AS", ID: "AS", PH: "AS", IL: "AS", AE: "AS", TR: "AS", KZ: "AS",
  AU: "OC", NZ: "OC",
  ZA: "AF", NG: "AF", EG: "AF", KE: "AF", MA: "AF",
};

export function continentOf(geolocation: string): string | undefined {
  const codes = geolocation.toUpperCase().match(/\b[A-Z]{2}\b/g) ?? [];
  for (let i = codes.length - 1; i >= 0; i--) {
    const c = CONTINENT_OF_COUNTRY[codes[i]!];
    if (c) return c;
  }
  return undefined;
}

/** The standby region for a GPU at `geolocation`, or an error naming what to configure. */
export function standbyRegionFor(geolocation: string, regionByContinent: Readonly<Record<string, string>>): string {
  const continent = continentOf(geolocation);
  if (!continent) throw new Error(`cannot tell the continent of the GPU's location '${geolocation}': add its country to reconciler/standby/geo.ts or choose the standby region by hand`);
  const region = regionByContinent[continent];
  if (!region) throw new Error(`no standby region for continent ${continent}: set standby.regionByContinent.${continent}`);
  return region;
}
