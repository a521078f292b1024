import { createHash } from 'node:crypto';

/**
 * The product documents' flavor catalogue (the user guide's flavor tables, 100 flavors).
 * A name says what a flavor is — `<group>[-v2a].<vCPUs>x<RAM GB>[-pinned][-gpu<vRAM GB>][-nvme<disk GB>]`
 * — and the tables agree with their names (RAM = GB × 1024 MB) in 96 rows. Four rows
 * contradict their names; Stratus follows the name, because the guide explains the names as
 * the definition ("hm.8x48 … 8 vCPUs and 48 GB memory") and the odd values are typos:
 *   gp-v2a.4x8 lists 8196 MB (→ 8192), hm-v2a.2x8 lists 2048 MB (→ 8192),
 *   hm-v2a.4x16 lists 4096 MB (→ 16384), hm-v2a.6x24 lists 6144 MB (→ 24576).
 * Root disks are 0 GB except NVMe flavors: servers boot from volumes, as the guide says
 * ("will not provision an instance without a volume attached (unless using NVMe)").
 */
const NAMES = [
  'gp.1x2', 'gp.2x4', 'gp.3x6', 'gp.4x8', 'gp.6x12', 'gp.8x16', 'gp.12x24', 'gp.16x32', 'gp.24x48',
  'gp.4x8-pinned', 'gp.8x16-pinned', 'gp.16x32-pinned',
  'gp-v2a.2x4', 'gp-v2a.4x8', 'gp-v2a.6x12', 'gp-v2a.8x16', 'gp-v2a.12x24', 'gp-v2a.16x32', 'gp-v2a.24x48', 'gp-v2a.48x96', 'gp-v2a.64x128', 'gp-v2a.96x192',
  'hm.1x4', 'hm.2x8', 'hm.3x12', 'hm.4x16', 'hm.6x24', 'hm.6x32', 'hm.8x48', 'hm.8x96', 'hm.12x64', 'hm.12x128', 'hm.16x64', 'hm.16x128', 'hm.24x64', 'hm.24x128',
  'hm.4x16-pinned', 'hm.8x32-pinned', 'hm.16x64-pinned',
  'hm-v2a.2x8', 'hm-v2a.4x16', 'hm-v2a.6x24', 'hm-v2a.8x32', 'hm-v2a.8x192', 'hm-v2a.12x64', 'hm-v2a.16x96', 'hm-v2a.16x256', 'hm-v2a.18x128',
  'hm-v2a.20x192', 'hm-v2a.22x256', 'hm-v2a.24x384', 'hm-v2a.32x512', 'hm-v2a.64x768',
  'hp.2x4', 'hp.2x6', 'hp.2x8', 'hp.4x6', 'hp.4x8', 'hp.4x16', 'hp.6x12', 'hp.8x24', 'hp.8x32', 'hp.8x64', 'hp.8x128', 'hp.12x32', 'hp.12x64', 'hp.12x128',
  'hp.4x8-nvme50', 'hp.4x8-nvme250', 'hp.8x24-nvme50', 'hp.8x24-nvme250', 'hp.12x64-nvme50', 'hp.12x64-nvme250',
  'hp.4x8-gpu4', 'hp.4x8-gpu8', 'hp.4x8-gpu24', 'hp.8x24-gpu4', 'hp.8x24-gpu8', 'hp.8x24-gpu24', 'hp.12x64-gpu4', 'hp.12x64-gpu8', 'hp.12x64-gpu24',
  ...['4x8', '8x24', '12x64'].flatMap((size) => ['gpu4', 'gpu8', 'gpu24'].flatMap((gpu) => ['nvme50', 'nvme250'].map((nvme) => `hp.${size}-${gpu}-${nvme}`))),
];

const GROUPS: Record<string, string> = { gp: 'General purpose', hm: 'High memory', hp: 'High performance' };

export interface CatalogueFlavor {
  id: string; name: string; vcpus: number; ram: number; disk: number; description: string; extraSpecs: Record<string, string>;
}

/** A stable id from the name, so every installation gives a flavor the same id. */
const flavorId = (name: string): string => {
  const h = createHash('sha1').update(`stratus-flavor/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export function parseFlavorName(name: string): CatalogueFlavor {
  const m = /^(gp|hm|hp)(-v2a)?\.(\d+)x(\d+)(-pinned)?(?:-gpu(\d+))?(?:-nvme(\d+))?$/.exec(name);
  if (!m) throw new Error(`not a catalogue flavor name: ${name}`);
  const [, group, v2, cpus, gb, pinned, gpu, nvme] = m;
  const extraSpecs: Record<string, string> = {};
  const features: string[] = [];
  if (pinned) { extraSpecs['hw:cpu_policy'] = 'dedicated'; extraSpecs['hw:cpu_thread_policy'] = 'require'; features.push('pinned CPU'); }
  if (gpu) features.push(`GPU with ${gpu} GB vRAM`);
  if (nvme) {
    // Local NVMe exists in europe-se-1a only: hosts there carry the matching aggregate metadata.
    extraSpecs['aggregate_instance_extra_specs:local_storage'] = 'nvme';
    features.push(`${nvme} GB local NVMe`);
  }
  const vendor = v2 ? 'version 2, AMD EPYC 7742' : group === 'hp' ? 'version 1, Intel Xeon Gold 6154' : 'version 1, Intel Xeon Gold 6138';
  return {
    id: flavorId(name), name, vcpus: Number(cpus), ram: Number(gb) * 1024, disk: nvme ? Number(nvme) : 0,
    description: `${GROUPS[group!]} (${vendor})${features.length ? `, ${features.join(', ')}` : ''}`, extraSpecs,
  };
}

export const FLAVOR_CATALOGUE: CatalogueFlavor[] = NAMES.map(parseFlavorName);
