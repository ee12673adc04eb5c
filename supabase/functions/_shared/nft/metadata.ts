/**
 * NFT metadata for a badge, in the form each chain's wallets read: ARC-3 on Algorand, ERC-721
 * metadata on Polygon. Files are content-addressed as IPFS does for a single-block file
 * (CIDv1, raw codec, SHA-256), so anyone can recompute `ipfs://<cid>` from the bytes.
 */
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

/** The CID `ipfs add --cid-version 1 --raw-leaves` gives a file of up to 256 KiB (one block). */
export async function ipfsCid(bytes: Uint8Array): Promise<string> {
  if (bytes.length > 262_144) {
    throw new Error("files over 256 KiB span several IPFS blocks; keep badge files small");
  }
  return CID.create(1, raw.code, await sha256.digest(bytes)).toString();
}

export interface BadgeForMint {
  name: string;
  description: string;
  category: string;
  rarity: string;
  xp_reward: number;
}

export interface TokenFiles {
  metadata: Uint8Array;
  metadataCid: string;
  imageCid: string;
  attributes: Record<string, unknown>;
}

/** The token's metadata (ARC-3 or ERC-721 JSON) pointing at its image by CID. */
export async function tokenMetadata(
  chain: "algorand" | "polygon",
  badge: BadgeForMint,
  image: { bytes: Uint8Array; mimetype: string },
  // Only what cannot change between attempts, so a retry builds the same metadata (and CID).
  earned: { earned_at: string },
): Promise<TokenFiles> {
  const imageCid = await ipfsCid(image.bytes);
  const traits = {
    category: badge.category,
    rarity: badge.rarity,
    xp_reward: badge.xp_reward,
    earned_at: earned.earned_at,
  };
  const json = chain === "algorand"
    ? { // ARC-3: name, decimals, image with its integrity and mimetype, properties
      name: badge.name.slice(0, 32),
      description: badge.description,
      decimals: 0,
      image: `ipfs://${imageCid}`,
      image_integrity: `sha256-${btoa(String.fromCharCode(...(await sha256.digest(image.bytes)).digest))}`,
      image_mimetype: image.mimetype,
      properties: traits,
    }
    : { // ERC-721 metadata (OpenSea's attributes form)
      name: badge.name,
      description: badge.description,
      image: `ipfs://${imageCid}`,
      attributes: Object.entries(traits).map(([trait_type, value]) => ({ trait_type, value })),
    };
  const metadata = new TextEncoder().encode(JSON.stringify(json));
  return { metadata, metadataCid: await ipfsCid(metadata), imageCid, attributes: traits };
}
