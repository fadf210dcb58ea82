export * from "./common";
export * from "./policy";
export * from "./signals";
export * from "./desired";
export * from "./decision";
export * from "./hpc";
export * from "./pool";
export * from "./standby";
