# ###########################################################################
# ##
# ##  cocogen agent policy, profile "debug"
# ##
# ##  FOR DEBUGGING ONLY. THIS POLICY GIVES NO CONFIDENTIALITY.
# ##
# ##  Every agent API request is allowed, including ExecProcessRequest
# ##  (any command), WriteStreamRequest (stdin), CopyFileRequest (any path)
# ##  and SetPolicyRequest (the host can replace this policy). Whoever
# ##  controls the host can read and change everything in the pod.
# ##  Never use it for workloads or secrets that need protection.
# ##  Relying parties should refuse evidence whose policy_data.profile
# ##  is "debug".
# ##
# ###########################################################################

package agent_policy

# A no-op for OPA 1.x. Engines that still parse Rego v0 by default need it.
import rego.v1

# The agent also allows requests the policy refuses.
default AllowRequestsFailingPolicy := true

default AddARPNeighborsRequest := true

default AddSwapPathRequest := true

default AddSwapRequest := true

default CloseStdinRequest := true

default CopyFileRequest := true

default CreateContainerRequest := true

default CreateSandboxRequest := true

default DestroySandboxRequest := true

default ExecProcessRequest := true

default GetDiagnosticDataRequest := true

default GetGuestDetailsRequest := true

default GetIPTablesRequest := true

default GetMetricsRequest := true

default GetOOMEventRequest := true

default GetVolumeStatsRequest := true

default GuestDetailsRequest := true

default ListInterfacesRequest := true

default ListRoutesRequest := true

default MemAgentCompactConfig := true

default MemAgentMemcgConfig := true

default MemHotplugByProbeRequest := true

default OnlineCPUMemRequest := true

default PauseContainerRequest := true

default ReadStreamRequest := true

default RemoveContainerRequest := true

default RemoveStaleVirtiofsShareMountsRequest := true

default ReseedRandomDevRequest := true

default ResizeVolumeRequest := true

default ResumeContainerRequest := true

default SetGuestDateTimeRequest := true

default SetIPTablesRequest := true

default SetPolicyRequest := true

default SignalProcessRequest := true

default StartContainerRequest := true

default StartTracingRequest := true

default StatsContainerRequest := true

default StopTracingRequest := true

default TtyWinResizeRequest := true

default UpdateContainerRequest := true

default UpdateEphemeralMountsRequest := true

default UpdateInterfaceRequest := true

default UpdateRoutesRequest := true

default VolumeStatsRequest := true

default WaitProcessRequest := true

default WriteStreamRequest := true

# ---------------------------------------------------------------------------
# Policy data (rendered by cocogen; must stay last). Unused by the debug
# rules; kept so that attestation claims have the same shape in every profile.
# ---------------------------------------------------------------------------
