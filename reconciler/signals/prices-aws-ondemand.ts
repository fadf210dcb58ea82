import { GetProductsCommand, PricingClient } from "@aws-sdk/client-pricing";

/**
 * On-demand prices from the AWS Price List API (GetProducts, service AmazonEC2): Linux, shared
 * tenancy, no pre-installed software, capacity status Used, per region code and instance type.
 * The API answers only in a few regions (us-east-1 among them), so the client is made there.
 * Each price list item is a JSON document; its OnDemand term's hourly USD price is the price.
 */
export class AwsOnDemandPrices {
  private readonly cache = new Map<string, Promise<number | undefined>>();
  constructor(private readonly client: PricingClient) {}

  static inUsEast1(): AwsOnDemandPrices {
    return new AwsOnDemandPrices(new PricingClient({ region: "us-east-1", maxAttempts: 4 }));
  }

  /** The hourly on-demand price, or undefined when the list has none; looked up once per type and region. */
  hourUsd(region: string, instanceType: string): Promise<number | undefined> {
    const key = `${region}/${instanceType}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.fetch(region, instanceType);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key)); // a failed lookup is tried again next time
    }
    return p;
  }

  private async fetch(region: string, instanceType: string): Promise<number | undefined> {
    const filters = { regionCode: region, instanceType, operatingSystem: "Linux", tenancy: "Shared", preInstalledSw: "NA", capacitystatus: "Used" };
    const prices: number[] = [];
    let NextToken: string | undefined;
    do {
      const r = await this.client.send(new GetProductsCommand({ ServiceCode: "AmazonEC2", FormatVersion: "aws_v1", MaxResults: 100, NextToken, Filters: Object.entries(filters).map(([Field, Value]) => ({ Type: "TERM_MATCH", Field, Value })) }));
      for (const item of r.PriceList ?? []) prices.push(...onDemandHourly(String(item), `${region} ${instanceType}`)); // a LazyJsonString: String() is its JSON text
      NextToken = r.NextToken;
    } while (NextToken);
    // Several SKUs can match (e.g. license variants); the cheapest Linux price is the one that applies.
    return prices.length ? Math.min(...prices) : undefined;
  }
}

/** Hourly USD prices of the OnDemand terms of one price list document; malformed documents are an error. */
export function onDemandHourly(doc: string, where: string): number[] {
  let parsed: any;
  try {
    parsed = JSON.parse(doc);
  } catch {
    throw new Error(`AWS Price List ${where}: a price item is not JSON`);
  }
  const out: number[] = [];
  for (const term of Object.values<any>(parsed?.terms?.OnDemand ?? {})) {
    for (const dim of Object.values<any>(term?.priceDimensions ?? {})) {
      if (dim?.unit !== "Hrs") continue;
      const usd = Number(dim?.pricePerUnit?.USD);
      if (!Number.isFinite(usd) || usd < 0) throw new Error(`AWS Price List ${where}: pricePerUnit.USD '${dim?.pricePerUnit?.USD}' is not a price`);
      if (usd > 0) out.push(usd);
    }
  }
  return out;
}
