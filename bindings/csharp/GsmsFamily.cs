// GsmsFamily.cs: the rest of the service family over libgsms (GsmsNative.cs), beside the clusters
// call in GsmsClient.cs: inline clusters and ticket status, variants, QoS servers and QoS
// measurement, session hosts and allocation status. C# 7.x; Mono's mcs, Unity (Mono, IL2CPP), .NET.
//
//   QosServersResult servers = client.GetQosServers();                 // the regions' beacons
//   QosResult qos = client.MeasureQos(new QosProbe().AddServers(servers));
//   VariantsResult variants = client.GetVariants(new VariantsRequest(titleId));
//   ClusterResult server = client.AllocateInlineCluster(new InlineClusterRequest(titleId)
//   {
//       ServiceConfigId = scid, SandboxId = "XDKS.1", TicketId = ticket, Location = qos.BestRegion,
//       GameVariantId = variants.Variants[0].Id, GsiSetId = variants.GsiSets[0].Id, MaxAllowedPlayers = 8,
//   }, 60000);
//
// Every call has a blocking form (never on a game's frame thread), a Task-based form (progress and
// completion inside Dispatch() with the default CallbackMode.OnDispatch) and a callback-free
// Start* form returning a GsmsOperation<T> to poll each frame. Requests are plain data, checked by
// the library when a call starts (bad input throws GsmsException with InvalidArgument at once).
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Threading;
using System.Threading.Tasks;

namespace Gsms
{
    // --- results ---

    /// <summary>A ticket's status (GET /titles/{titleId}/tickets/{ticketId}/status).</summary>
    public sealed class TicketResult : ServerResult
    {
        public HostStatus Status { get; private set; }
        public uint TitleId { get; private set; }
        public string TicketId { get; private set; }
        public string ClusterId { get; private set; }
        public string Description { get; private set; }
        public string GameHostId { get; private set; }

        public bool IsActive { get { return Status == HostStatus.Active; } }
        public bool IsQueued { get { return Status == HostStatus.Queued; } }

        /// <summary>Copies a native gsms_ticket_result (owned or borrowed); the pointer is not kept.</summary>
        public static TicketResult FromNative(IntPtr r)
        {
            return new TicketResult
            {
                Info = CallInfo.FromNative(GsmsNative.gsms_ticket_result_info(r)),
                Status = (HostStatus)GsmsNative.gsms_ticket_result_status(r),
                TitleId = GsmsNative.gsms_ticket_result_title_id(r),
                TicketId = Utf8.Decode(GsmsNative.gsms_ticket_result_ticket_id(r)),
                ClusterId = Utf8.Decode(GsmsNative.gsms_ticket_result_cluster_id(r)),
                HostName = Utf8.Decode(GsmsNative.gsms_ticket_result_host_name(r)),
                Description = Utf8.Decode(GsmsNative.gsms_ticket_result_description(r)),
                SecureContext = Utf8.Decode(GsmsNative.gsms_ticket_result_secure_context(r)),
                GameHostId = Utf8.Decode(GsmsNative.gsms_ticket_result_game_host_id(r)),
                Region = Utf8.Decode(GsmsNative.gsms_ticket_result_region(r)),
                Ports = ReadPorts(r, GsmsNative.gsms_ticket_result_port_count(r),
                    (IntPtr p, UIntPtr i, out IntPtr n, out uint ip, out uint ep) => GsmsNative.gsms_ticket_result_port(p, i, out n, out ip, out ep)),
            };
        }

        public override string ToString() { return "Ticket " + TicketId + " " + Status + (IsActive ? " " + HostName : ""); }
    }

    /// <summary>A session host allocation, or a session's allocation status.</summary>
    public sealed class SessionHostResult : ServerResult
    {
        public FulfillmentState State { get; private set; }
        public string SessionHostId { get; private set; }
        public string SessionId { get; private set; }
        public string Description { get; private set; }
        public string ClusterId { get; private set; }
        public string TicketId { get; private set; }
        public string GameHostId { get; private set; }

        public bool IsFulfilled { get { return State == FulfillmentState.Fulfilled; } }
        public bool IsQueued { get { return State == FulfillmentState.Queued; } }

        /// <summary>Copies a native gsms_session_host_result (owned or borrowed); the pointer is not kept.</summary>
        public static SessionHostResult FromNative(IntPtr r)
        {
            return new SessionHostResult
            {
                Info = CallInfo.FromNative(GsmsNative.gsms_session_host_result_info(r)),
                State = (FulfillmentState)GsmsNative.gsms_session_host_result_fulfillment_state(r),
                HostName = Utf8.Decode(GsmsNative.gsms_session_host_result_host_name(r)),
                Region = Utf8.Decode(GsmsNative.gsms_session_host_result_region(r)),
                SecureContext = Utf8.Decode(GsmsNative.gsms_session_host_result_secure_context(r)),
                SessionHostId = Utf8.Decode(GsmsNative.gsms_session_host_result_session_host_id(r)),
                SessionId = Utf8.Decode(GsmsNative.gsms_session_host_result_session_id(r)),
                Description = Utf8.Decode(GsmsNative.gsms_session_host_result_description(r)),
                ClusterId = Utf8.Decode(GsmsNative.gsms_session_host_result_cluster_id(r)),
                TicketId = Utf8.Decode(GsmsNative.gsms_session_host_result_ticket_id(r)),
                GameHostId = Utf8.Decode(GsmsNative.gsms_session_host_result_game_host_id(r)),
                Ports = ReadPorts(r, GsmsNative.gsms_session_host_result_port_count(r),
                    (IntPtr p, UIntPtr i, out IntPtr n, out uint ip, out uint ep) => GsmsNative.gsms_session_host_result_port(p, i, out n, out ip, out ep)),
            };
        }

        public override string ToString() { return IsFulfilled ? "Fulfilled " + HostName + " (" + Region + ")" : State.ToString(); }
    }

    /// <summary>A game mode of a title.</summary>
    public sealed class GameVariant
    {
        public string Id { get; private set; }
        public string Name { get; private set; }
        public bool IsPublisher { get; private set; }
        public ulong Rank { get; private set; }
        public string SchemaId { get; private set; }

        internal GameVariant(string id, string name, bool isPublisher, ulong rank, string schemaId)
        {
            Id = id;
            Name = name;
            IsPublisher = isPublisher;
            Rank = rank;
            SchemaId = schemaId;
        }

        public override string ToString() { return Name + " (" + Id + ")"; }
    }

    /// <summary>A variant schema: an XML document describing a game mode's settings.</summary>
    public sealed class VariantSchema
    {
        public string Id { get; private set; }
        public string Name { get; private set; }
        public string Content { get; private set; }

        internal VariantSchema(string id, string name, string content)
        {
            Id = id;
            Name = name;
            Content = content;
        }
    }

    /// <summary>A server image (GSI) set of a title.</summary>
    public sealed class GsiSet
    {
        public string Id { get; private set; }
        public string Name { get; private set; }
        public ulong MinRequiredPlayers { get; private set; }
        public ulong MaxAllowedPlayers { get; private set; }
        public ulong SelectionOrder { get; private set; }
        public string SchemaId { get; private set; }
        public IList<KeyValuePair<string, string>> Tags { get; private set; }

        internal GsiSet(string id, string name, ulong minPlayers, ulong maxPlayers, ulong selectionOrder, string schemaId,
            IList<KeyValuePair<string, string>> tags)
        {
            Id = id;
            Name = name;
            MinRequiredPlayers = minPlayers;
            MaxAllowedPlayers = maxPlayers;
            SelectionOrder = selectionOrder;
            SchemaId = schemaId;
            Tags = tags;
        }

        public override string ToString() { return Name + " (" + Id + ")"; }
    }

    /// <summary>A title's game variants, variant schemas and GSI sets (POST /titles/{titleId}/variants).</summary>
    public sealed class VariantsResult : GsmsResult
    {
        public IList<GameVariant> Variants { get; private set; }
        public IList<VariantSchema> Schemas { get; private set; }
        public IList<GsiSet> GsiSets { get; private set; }

        /// <summary>The first GSI set of the variant's schema, else the first one; null when there is none.</summary>
        public GsiSet GsiSetFor(GameVariant variant)
        {
            foreach (var set in GsiSets)
                if (variant != null && set.SchemaId == variant.SchemaId) return set;
            return GsiSets.Count > 0 ? GsiSets[0] : null;
        }

        /// <summary>Copies a native gsms_variants_result (owned or borrowed); the pointer is not kept.</summary>
        public static VariantsResult FromNative(IntPtr r)
        {
            var variants = new List<GameVariant>();
            ulong n = GsmsNative.gsms_variants_result_variant_count(r).ToUInt64();
            for (ulong i = 0; i < n; i++)
            {
                IntPtr id, name, schema;
                uint isPublisher;
                ulong rank;
                if (GsmsNative.gsms_variants_result_variant(r, new UIntPtr(i), out id, out name, out isPublisher, out rank, out schema) == 0)
                    variants.Add(new GameVariant(Utf8.Decode(id), Utf8.Decode(name), isPublisher != 0, rank, Utf8.Decode(schema)));
            }
            var schemas = new List<VariantSchema>();
            n = GsmsNative.gsms_variants_result_schema_count(r).ToUInt64();
            for (ulong i = 0; i < n; i++)
            {
                IntPtr id, name, content;
                if (GsmsNative.gsms_variants_result_schema(r, new UIntPtr(i), out id, out name, out content) == 0)
                    schemas.Add(new VariantSchema(Utf8.Decode(id), Utf8.Decode(name), Utf8.Decode(content)));
            }
            var sets = new List<GsiSet>();
            n = GsmsNative.gsms_variants_result_gsi_set_count(r).ToUInt64();
            for (ulong i = 0; i < n; i++)
            {
                IntPtr id, name, schema;
                ulong minPlayers, maxPlayers, order;
                var set = new UIntPtr(i);
                if (GsmsNative.gsms_variants_result_gsi_set(r, set, out id, out name, out minPlayers, out maxPlayers, out order, out schema) != 0)
                    continue;
                var tags = new List<KeyValuePair<string, string>>();
                ulong t = GsmsNative.gsms_variants_result_gsi_set_tag_count(r, set).ToUInt64();
                for (ulong j = 0; j < t; j++)
                {
                    IntPtr tagName, tagValue;
                    if (GsmsNative.gsms_variants_result_gsi_set_tag(r, set, new UIntPtr(j), out tagName, out tagValue) == 0)
                        tags.Add(new KeyValuePair<string, string>(Utf8.Decode(tagName), Utf8.Decode(tagValue)));
                }
                sets.Add(new GsiSet(Utf8.Decode(id), Utf8.Decode(name), minPlayers, maxPlayers, order, Utf8.Decode(schema),
                    new ReadOnlyCollection<KeyValuePair<string, string>>(tags)));
            }
            return new VariantsResult
            {
                Info = CallInfo.FromNative(GsmsNative.gsms_variants_result_info(r)),
                Variants = new ReadOnlyCollection<GameVariant>(variants),
                Schemas = new ReadOnlyCollection<VariantSchema>(schemas),
                GsiSets = new ReadOnlyCollection<GsiSet>(sets),
            };
        }
    }

    /// <summary>One region's QoS beacon.</summary>
    public sealed class QosServer
    {
        /// <summary>The beacon's address: a name, an address or host:port.</summary>
        public string Fqdn { get; private set; }
        /// <summary>Base64 secure device address ("" when absent).</summary>
        public string SecureDeviceAddress { get; private set; }
        /// <summary>The region's name: what allocations take as location.</summary>
        public string TargetLocation { get; private set; }

        internal QosServer(string fqdn, string secureDeviceAddress, string targetLocation)
        {
            Fqdn = fqdn;
            SecureDeviceAddress = secureDeviceAddress;
            TargetLocation = targetLocation;
        }

        public override string ToString() { return TargetLocation + " " + Fqdn; }
    }

    /// <summary>
    /// The QoS servers answer (one beacon per region). Keeps a native copy, for QosProbe.AddServers;
    /// Dispose releases it early (else the finalizer does).
    /// </summary>
    public sealed class QosServersResult : GsmsResult, IDisposable
    {
        public IList<QosServer> Servers { get; private set; }
        internal GsmsQosServersResultHandle Native { get; private set; }

        /// <summary>Copies a native gsms_qos_servers_result (owned or borrowed); the pointer is not kept.</summary>
        public static QosServersResult FromNative(IntPtr r)
        {
            var servers = new List<QosServer>();
            ulong n = GsmsNative.gsms_qos_servers_result_count(r).ToUInt64();
            for (ulong i = 0; i < n; i++)
            {
                IntPtr fqdn, sda, location;
                if (GsmsNative.gsms_qos_servers_result_server(r, new UIntPtr(i), out fqdn, out sda, out location) == 0)
                    servers.Add(new QosServer(Utf8.Decode(fqdn), Utf8.Decode(sda), Utf8.Decode(location)));
            }
            return new QosServersResult
            {
                Info = CallInfo.FromNative(GsmsNative.gsms_qos_servers_result_info(r)),
                Servers = new ReadOnlyCollection<QosServer>(servers),
                Native = new GsmsQosServersResultHandle(GsmsNative.gsms_qos_servers_result_clone(r)),
            };
        }

        public void Dispose() { Native.Dispose(); }
    }

    /// <summary>One region's measured latency.</summary>
    public sealed class QosRegion
    {
        public string Name { get; private set; }
        /// <summary>Microseconds; uint.MaxValue when no reply came (see Message).</summary>
        public uint LatencyUs { get; private set; }
        public uint Sent { get; private set; }
        public uint Received { get; private set; }
        /// <summary>Why there is no latency; "" when there is one.</summary>
        public string Message { get; private set; }
        /// <summary>Where it was measured ("host:port" or "ip:port").</summary>
        public string Address { get; private set; }

        public bool HasLatency { get { return LatencyUs != uint.MaxValue; } }
        public double LatencyMs { get { return HasLatency ? LatencyUs / 1000.0 : double.PositiveInfinity; } }

        internal QosRegion(string name, uint latencyUs, uint sent, uint received, string message, string address)
        {
            Name = name;
            LatencyUs = latencyUs;
            Sent = sent;
            Received = received;
            Message = message;
            Address = address;
        }

        public override string ToString() { return Name + (HasLatency ? " " + LatencyMs.ToString("0.00") + " ms" : " no answer"); }
    }

    /// <summary>A QoS measurement: every region, best first.</summary>
    public sealed class QosResult : GsmsResult
    {
        public IList<QosRegion> Regions { get; private set; }
        /// <summary>The region with the lowest latency (what to pass as location); "" when none answered.</summary>
        public string BestRegion { get; private set; }

        /// <summary>Copies a native gsms_qos_result (owned or borrowed); the pointer is not kept.</summary>
        public static QosResult FromNative(IntPtr r)
        {
            var regions = new List<QosRegion>();
            ulong n = GsmsNative.gsms_qos_result_region_count(r).ToUInt64();
            for (ulong i = 0; i < n; i++)
            {
                IntPtr name;
                uint latency, sent, received;
                var index = new UIntPtr(i);
                if (GsmsNative.gsms_qos_result_region(r, index, out name, out latency, out sent, out received) == 0)
                    regions.Add(new QosRegion(Utf8.Decode(name), latency, sent, received,
                        Utf8.Decode(GsmsNative.gsms_qos_result_region_message(r, index)),
                        Utf8.Decode(GsmsNative.gsms_qos_result_region_address(r, index))));
            }
            return new QosResult
            {
                Info = CallInfo.FromNative(GsmsNative.gsms_qos_result_info(r)),
                Regions = new ReadOnlyCollection<QosRegion>(regions),
                BestRegion = Utf8.Decode(GsmsNative.gsms_qos_result_best_region(r)),
            };
        }
    }

    // --- requests (plain data; the library checks them when a call starts) ---

    /// <summary>An inline cluster (allocation without MPSD) for a ticket. Every string and MaxAllowedPlayers is required.</summary>
    public sealed class InlineClusterRequest
    {
        public uint TitleId { get; set; }
        public string ServiceConfigId { get; set; }
        public string SandboxId { get; set; }
        /// <summary>The same for every member of the group; follow it with GetTicketStatus.</summary>
        public string TicketId { get; set; }
        public string GsiSetId { get; set; }
        public string GameVariantId { get; set; }
        /// <summary>The region's name, normally QosResult.BestRegion.</summary>
        public string Location { get; set; }
        /// <summary>At least 1.</summary>
        public uint MaxAllowedPlayers { get; set; }
        /// <summary>Ask the service not to queue the ticket when no server is free (Aborted instead).</summary>
        public bool AbortIfQueued { get; set; }

        public InlineClusterRequest(uint titleId) { TitleId = titleId; }

        /// <summary>A native request; throws GsmsException (InvalidArgument) on bad input.</summary>
        public GsmsInlineClusterRequestHandle ToNative()
        {
            var h = new GsmsInlineClusterRequestHandle(GsmsNative.gsms_inline_cluster_request_new(TitleId));
            try
            {
                if (h.IsInvalid) throw new GsmsException(GsmsStatus.Internal, "out of memory");
                GsmsException.Check(GsmsNative.gsms_inline_cluster_request_set_service_config_id(h, Utf8.Encode(ServiceConfigId, "service config id")));
                GsmsException.Check(GsmsNative.gsms_inline_cluster_request_set_sandbox_id(h, Utf8.Encode(SandboxId, "sandbox id")));
                GsmsException.Check(GsmsNative.gsms_inline_cluster_request_set_ticket_id(h, Utf8.Encode(TicketId, "ticket id")));
                GsmsException.Check(GsmsNative.gsms_inline_cluster_request_set_gsi_set_id(h, Utf8.Encode(GsiSetId, "GSI set id")));
                GsmsException.Check(GsmsNative.gsms_inline_cluster_request_set_game_variant_id(h, Utf8.Encode(GameVariantId, "game variant id")));
                GsmsException.Check(GsmsNative.gsms_inline_cluster_request_set_location(h, Utf8.Encode(Location, "location")));
                GsmsException.Check(GsmsNative.gsms_inline_cluster_request_set_max_allowed_players(h, MaxAllowedPlayers));
                GsmsException.Check(GsmsNative.gsms_inline_cluster_request_set_abort_if_queued(h, AbortIfQueued ? 1u : 0u));
                return h;
            }
            catch
            {
                h.Dispose();
                throw;
            }
        }
    }

    /// <summary>Which game variants and GSI sets to list. Null / 0 / false leave the library's default.</summary>
    public sealed class VariantsRequest
    {
        public uint TitleId { get; set; }
        /// <summary>Default "en-us".</summary>
        public string Locale { get; set; }
        /// <summary>0: no limit.</summary>
        public uint MaxAllowedPlayers { get; set; }
        /// <summary>0: all.</summary>
        public uint MaxVariants { get; set; }
        public bool PublisherOnly { get; set; }
        /// <summary>Sent as [{"name": Key, "value": Value}], in order.</summary>
        public IList<KeyValuePair<string, string>> Tags { get; private set; }

        public VariantsRequest(uint titleId)
        {
            TitleId = titleId;
            Tags = new List<KeyValuePair<string, string>>();
        }

        public VariantsRequest AddTag(string name, string value)
        {
            Tags.Add(new KeyValuePair<string, string>(name, value));
            return this;
        }

        /// <summary>A native request; throws GsmsException (InvalidArgument) on bad input.</summary>
        public GsmsVariantsRequestHandle ToNative()
        {
            var h = new GsmsVariantsRequestHandle(GsmsNative.gsms_variants_request_new(TitleId));
            try
            {
                if (h.IsInvalid) throw new GsmsException(GsmsStatus.Internal, "out of memory");
                if (Locale != null) GsmsException.Check(GsmsNative.gsms_variants_request_set_locale(h, Utf8.Encode(Locale, "locale")));
                GsmsException.Check(GsmsNative.gsms_variants_request_set_max_allowed_players(h, MaxAllowedPlayers));
                GsmsException.Check(GsmsNative.gsms_variants_request_set_max_variants(h, MaxVariants));
                GsmsException.Check(GsmsNative.gsms_variants_request_set_publisher_only(h, PublisherOnly ? 1u : 0u));
                foreach (var tag in Tags)
                    GsmsException.Check(GsmsNative.gsms_variants_request_add_tag(h, Utf8.Encode(tag.Key, "tag name"), Utf8.Encode(tag.Value ?? "", "tag value")));
                return h;
            }
            catch
            {
                h.Dispose();
                throw;
            }
        }
    }

    /// <summary>A session host (GSDK-era allocation). SessionId, CloudGameId and one location are required.</summary>
    public sealed class SessionHostRequest
    {
        public uint TitleId { get; set; }
        /// <summary>A GUID the caller chooses; the same id follows the allocation (GetAllocationStatus).</summary>
        public string SessionId { get; set; }
        /// <summary>The GSI set id.</summary>
        public string CloudGameId { get; set; }
        /// <summary>Region names, in order of preference.</summary>
        public IList<string> Locations { get; private set; }
        /// <summary>Optional: an opaque string for the game server, at most 32 KiB.</summary>
        public string SessionCookie { get; set; }
        public string GameModeId { get; set; }
        public string SandboxId { get; set; }

        public SessionHostRequest(uint titleId)
        {
            TitleId = titleId;
            Locations = new List<string>();
        }

        public SessionHostRequest AddLocation(string location)
        {
            Locations.Add(location);
            return this;
        }

        /// <summary>A native request; throws GsmsException (InvalidArgument) on bad input.</summary>
        public GsmsSessionHostRequestHandle ToNative()
        {
            var h = new GsmsSessionHostRequestHandle(GsmsNative.gsms_session_host_request_new(TitleId));
            try
            {
                if (h.IsInvalid) throw new GsmsException(GsmsStatus.Internal, "out of memory");
                GsmsException.Check(GsmsNative.gsms_session_host_request_set_session_id(h, Utf8.Encode(SessionId, "session id")));
                GsmsException.Check(GsmsNative.gsms_session_host_request_set_cloud_game_id(h, Utf8.Encode(CloudGameId, "cloud game id")));
                foreach (var l in Locations)
                    GsmsException.Check(GsmsNative.gsms_session_host_request_add_location(h, Utf8.Encode(l, "location")));
                if (SessionCookie != null)
                    GsmsException.Check(GsmsNative.gsms_session_host_request_set_session_cookie(h, Utf8.Encode(SessionCookie, "session cookie")));
                if (GameModeId != null)
                    GsmsException.Check(GsmsNative.gsms_session_host_request_set_game_mode_id(h, Utf8.Encode(GameModeId, "game mode id")));
                if (SandboxId != null)
                    GsmsException.Check(GsmsNative.gsms_session_host_request_set_sandbox_id(h, Utf8.Encode(SandboxId, "sandbox id")));
                return h;
            }
            catch
            {
                h.Dispose();
                throw;
            }
        }
    }

    /// <summary>One region to measure: its name and its beacon (port 0 = 3075).</summary>
    public struct QosTarget
    {
        public readonly string Region;
        public readonly string Host;
        public readonly uint Port;

        public QosTarget(string region, string host, uint port)
        {
            Region = region;
            Host = host;
            Port = port;
        }
    }

    /// <summary>What to measure (regions from a QoS servers answer, or named by hand) and how.</summary>
    public sealed class QosProbe
    {
        public IList<QosTarget> Targets { get; private set; }
        public IList<QosServersResult> Servers { get; private set; }
        /// <summary>1..100; default 10.</summary>
        public uint ProbesPerRegion { get; set; }
        /// <summary>Probes in flight over all regions, 1..64; default 4.</summary>
        public uint Parallelism { get; set; }
        /// <summary>Timeout of one probe in ms, 1..10000; default 250.</summary>
        public uint TimeoutMs { get; set; }

        public QosProbe()
        {
            Targets = new List<QosTarget>();
            Servers = new List<QosServersResult>();
            ProbesPerRegion = 10;
            Parallelism = 4;
            TimeoutMs = 250;
        }

        public QosProbe AddTarget(string region, string host, uint port = 0)
        {
            Targets.Add(new QosTarget(region, host, port));
            return this;
        }

        /// <summary>Every server of a QoS servers answer (all or nothing, checked when the measurement starts).</summary>
        public QosProbe AddServers(QosServersResult servers)
        {
            Servers.Add(servers);
            return this;
        }

        /// <summary>A native probe; throws GsmsException (InvalidArgument) on bad input.</summary>
        public GsmsQosProbeHandle ToNative()
        {
            var h = new GsmsQosProbeHandle(GsmsNative.gsms_qos_probe_new());
            try
            {
                if (h.IsInvalid) throw new GsmsException(GsmsStatus.Internal, "out of memory");
                foreach (var s in Servers)
                {
                    if (s == null) throw new GsmsException(GsmsStatus.InvalidArgument, "QoS servers must not be null");
                    GsmsException.Check(GsmsNative.gsms_qos_probe_add_servers(h, s.Native));
                }
                foreach (var t in Targets)
                    GsmsException.Check(GsmsNative.gsms_qos_probe_add_target(h, Utf8.Encode(t.Region, "region"), Utf8.Encode(t.Host, "host"), t.Port));
                GsmsException.Check(GsmsNative.gsms_qos_probe_set_options(h, ProbesPerRegion, Parallelism, TimeoutMs));
                return h;
            }
            catch
            {
                h.Dispose();
                throw;
            }
        }
    }

    // --- the calls ---

    public sealed partial class GsmsClient
    {
        static T NotNull<T>(T request, string what) where T : class
        {
            if (request == null) throw new GsmsException(GsmsStatus.InvalidArgument, what + " must not be null");
            return request;
        }

        // Inline clusters (results are ClusterResult; Active maps to Fulfilled).

        /// <summary>One POST /inlineclusters, blocking (never on the main thread). Returns whatever the state.</summary>
        public ClusterResult CreateInlineCluster(InlineClusterRequest request)
        {
            using (var req = NotNull(request, "request").ToNative())
            {
                IntPtr r;
                return Blocking(ResultKind.Cluster, GsmsNative.gsms_client_create_inline_cluster(handle, req, out r), r);
            }
        }

        /// <summary>
        /// POST, then follow the ticket while Queued until Active (Fulfilled), Aborted, or Error
        /// (GsmsException with AllocationFailed); blocking. 0 = no deadline.
        /// </summary>
        public ClusterResult AllocateInlineCluster(InlineClusterRequest request, uint deadlineMs = 0)
        {
            using (var req = NotNull(request, "request").ToNative())
            {
                IntPtr r;
                return Blocking(ResultKind.Cluster, GsmsNative.gsms_client_allocate_inline_cluster(handle, req, deadlineMs, out r), r);
            }
        }

        public Task<ClusterResult> CreateInlineClusterAsync(InlineClusterRequest request,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (cancellationToken.IsCancellationRequested) return CancelledTask<ClusterResult>();
            using (var req = NotNull(request, "request").ToNative())
                return StartAsync(ResultKind.Cluster, null, cancellationToken, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_create_inline_cluster_async(handle, req, s_onDone, state, out op));
        }

        /// <summary>As AllocateInlineCluster; <paramref name="progress"/> sees each Queued answer (POST or ticket status).</summary>
        public Task<ClusterResult> AllocateInlineClusterAsync(InlineClusterRequest request, uint deadlineMs = 0,
            IProgress<ClusterResult> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (cancellationToken.IsCancellationRequested) return CancelledTask<ClusterResult>();
            using (var req = NotNull(request, "request").ToNative())
                return StartAsync(ResultKind.Cluster, progress, cancellationToken, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_allocate_inline_cluster_async(handle, req, deadlineMs,
                        progress != null ? s_onProgress : null, s_onDone, state, out op));
        }

        public GsmsOperation StartCreateInlineCluster(InlineClusterRequest request)
        {
            using (var req = NotNull(request, "request").ToNative())
            {
                IntPtr op;
                GsmsException.Check(GsmsNative.gsms_client_create_inline_cluster_async(handle, req, null, IntPtr.Zero, out op));
                return new GsmsOperation(new GsmsOperationHandle(op));
            }
        }

        public GsmsOperation StartAllocateInlineCluster(InlineClusterRequest request, uint deadlineMs = 0)
        {
            using (var req = NotNull(request, "request").ToNative())
            {
                IntPtr op;
                GsmsException.Check(GsmsNative.gsms_client_allocate_inline_cluster_async(handle, req, deadlineMs, null, null, IntPtr.Zero, out op));
                return new GsmsOperation(new GsmsOperationHandle(op));
            }
        }

        // Ticket status.

        /// <summary>One GET of a ticket's status, blocking.</summary>
        public TicketResult GetTicketStatus(uint titleId, string ticketId)
        {
            IntPtr r;
            uint st = GsmsNative.gsms_client_get_ticket_status(handle, titleId, Utf8.Encode(ticketId, "ticket id"), out r);
            return Blocking(ResultKind.Ticket, st, r);
        }

        public Task<TicketResult> GetTicketStatusAsync(uint titleId, string ticketId,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] id = Utf8.Encode(ticketId, "ticket id");
            return StartAsync(ResultKind.Ticket, null, cancellationToken, (IntPtr state, out IntPtr op) =>
                GsmsNative.gsms_client_get_ticket_status_async(handle, titleId, id, s_onTicketDone, state, out op));
        }

        public GsmsOperation<TicketResult> StartGetTicketStatus(uint titleId, string ticketId)
        {
            byte[] id = Utf8.Encode(ticketId, "ticket id");
            return StartPolled(ResultKind.Ticket, (IntPtr state, out IntPtr op) =>
                GsmsNative.gsms_client_get_ticket_status_async(handle, titleId, id, null, state, out op));
        }

        // Variants.

        /// <summary>One POST /variants to the discovery host, blocking.</summary>
        public VariantsResult GetVariants(VariantsRequest request)
        {
            using (var req = NotNull(request, "request").ToNative())
            {
                IntPtr r;
                return Blocking(ResultKind.Variants, GsmsNative.gsms_client_get_variants(handle, req, out r), r);
            }
        }

        public Task<VariantsResult> GetVariantsAsync(VariantsRequest request,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (cancellationToken.IsCancellationRequested) return CancelledTask<VariantsResult>();
            using (var req = NotNull(request, "request").ToNative())
                return StartAsync(ResultKind.Variants, null, cancellationToken, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_get_variants_async(handle, req, s_onVariantsDone, state, out op));
        }

        public GsmsOperation<VariantsResult> StartGetVariants(VariantsRequest request)
        {
            using (var req = NotNull(request, "request").ToNative())
                return StartPolled(ResultKind.Variants, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_get_variants_async(handle, req, null, state, out op));
        }

        // QoS servers.

        /// <summary>One GET to the discovery host, blocking: /xplatqosservers (crossPlatform, the default) or /qosservers.</summary>
        public QosServersResult GetQosServers(bool crossPlatform = true)
        {
            IntPtr r;
            return Blocking(ResultKind.QosServers, GsmsNative.gsms_client_get_qos_servers(handle, crossPlatform ? 1u : 0u, out r), r);
        }

        public Task<QosServersResult> GetQosServersAsync(bool crossPlatform = true,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return StartAsync(ResultKind.QosServers, null, cancellationToken, (IntPtr state, out IntPtr op) =>
                GsmsNative.gsms_client_get_qos_servers_async(handle, crossPlatform ? 1u : 0u, s_onQosServersDone, state, out op));
        }

        public GsmsOperation<QosServersResult> StartGetQosServers(bool crossPlatform = true)
        {
            return StartPolled(ResultKind.QosServers, (IntPtr state, out IntPtr op) =>
                GsmsNative.gsms_client_get_qos_servers_async(handle, crossPlatform ? 1u : 0u, null, state, out op));
        }

        // QoS measurement.

        /// <summary>
        /// Measures latency to every region of the probe, blocking (about regions x probes x round
        /// trip / parallelism: never on the main thread). Regions that did not answer are in the
        /// result without a latency.
        /// </summary>
        public QosResult MeasureQos(QosProbe probe)
        {
            using (var p = NotNull(probe, "probe").ToNative())
            {
                IntPtr r;
                return Blocking(ResultKind.Qos, GsmsNative.gsms_client_measure_qos(handle, p, out r), r);
            }
        }

        /// <summary>The measurement on a library thread (name resolution included); cancelling stops the probing.</summary>
        public Task<QosResult> MeasureQosAsync(QosProbe probe, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (cancellationToken.IsCancellationRequested) return CancelledTask<QosResult>();
            using (var p = NotNull(probe, "probe").ToNative())
                return StartAsync(ResultKind.Qos, null, cancellationToken, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_measure_qos_async(handle, p, s_onQosDone, state, out op));
        }

        public GsmsOperation<QosResult> StartMeasureQos(QosProbe probe)
        {
            using (var p = NotNull(probe, "probe").ToNative())
                return StartPolled(ResultKind.Qos, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_measure_qos_async(handle, p, null, state, out op));
        }

        // Session hosts and allocation status.

        /// <summary>One POST /sessionhosts, blocking. Returns whatever the state.</summary>
        public SessionHostResult CreateSessionHost(SessionHostRequest request)
        {
            using (var req = NotNull(request, "request").ToNative())
            {
                IntPtr r;
                return Blocking(ResultKind.SessionHost, GsmsNative.gsms_client_create_session_host(handle, req, out r), r);
            }
        }

        /// <summary>POST, then follow the allocation status until Fulfilled or Aborted; blocking. 0 = no deadline.</summary>
        public SessionHostResult AllocateSessionHost(SessionHostRequest request, uint deadlineMs = 0)
        {
            using (var req = NotNull(request, "request").ToNative())
            {
                IntPtr r;
                return Blocking(ResultKind.SessionHost, GsmsNative.gsms_client_allocate_session_host(handle, req, deadlineMs, out r), r);
            }
        }

        /// <summary>One GET of a session's allocation status, blocking.</summary>
        public SessionHostResult GetAllocationStatus(uint titleId, string sessionId)
        {
            IntPtr r;
            uint st = GsmsNative.gsms_client_get_allocation_status(handle, titleId, Utf8.Encode(sessionId, "session id"), out r);
            return Blocking(ResultKind.SessionHost, st, r);
        }

        public Task<SessionHostResult> CreateSessionHostAsync(SessionHostRequest request,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (cancellationToken.IsCancellationRequested) return CancelledTask<SessionHostResult>();
            using (var req = NotNull(request, "request").ToNative())
                return StartAsync(ResultKind.SessionHost, null, cancellationToken, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_create_session_host_async(handle, req, s_onSessionHostDone, state, out op));
        }

        /// <summary>As AllocateSessionHost; <paramref name="progress"/> sees each Queued answer.</summary>
        public Task<SessionHostResult> AllocateSessionHostAsync(SessionHostRequest request, uint deadlineMs = 0,
            IProgress<SessionHostResult> progress = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (cancellationToken.IsCancellationRequested) return CancelledTask<SessionHostResult>();
            using (var req = NotNull(request, "request").ToNative())
                return StartAsync(ResultKind.SessionHost, progress, cancellationToken, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_allocate_session_host_async(handle, req, deadlineMs,
                        progress != null ? s_onSessionHostProgress : null, s_onSessionHostDone, state, out op));
        }

        public Task<SessionHostResult> GetAllocationStatusAsync(uint titleId, string sessionId,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] id = Utf8.Encode(sessionId, "session id");
            return StartAsync(ResultKind.SessionHost, null, cancellationToken, (IntPtr state, out IntPtr op) =>
                GsmsNative.gsms_client_get_allocation_status_async(handle, titleId, id, s_onSessionHostDone, state, out op));
        }

        public GsmsOperation<SessionHostResult> StartCreateSessionHost(SessionHostRequest request)
        {
            using (var req = NotNull(request, "request").ToNative())
                return StartPolled(ResultKind.SessionHost, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_create_session_host_async(handle, req, null, state, out op));
        }

        public GsmsOperation<SessionHostResult> StartAllocateSessionHost(SessionHostRequest request, uint deadlineMs = 0)
        {
            using (var req = NotNull(request, "request").ToNative())
                return StartPolled(ResultKind.SessionHost, (IntPtr state, out IntPtr op) =>
                    GsmsNative.gsms_client_allocate_session_host_async(handle, req, deadlineMs, null, null, state, out op));
        }

        public GsmsOperation<SessionHostResult> StartGetAllocationStatus(uint titleId, string sessionId)
        {
            byte[] id = Utf8.Encode(sessionId, "session id");
            return StartPolled(ResultKind.SessionHost, (IntPtr state, out IntPtr op) =>
                GsmsNative.gsms_client_get_allocation_status_async(handle, titleId, id, null, state, out op));
        }
    }
}
