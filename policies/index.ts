// The CrossGuard policy pack: `pulumi preview --policy-pack policies` (the reconciler passes it too).
import { PolicyPack } from "@pulumi/policy";
import { ALL_POLICIES } from "./policies";

new PolicyPack("fleet", { policies: ALL_POLICIES });
