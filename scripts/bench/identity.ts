/** The cluster and token every bench controller knows: apart, so the floors' processes import nothing else. */
export const clusterUuid = "bench-cluster"
export const token = "bench-token"
