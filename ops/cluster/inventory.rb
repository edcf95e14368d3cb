# frozen_string_literal: true

# Settings of the Vagrant cluster and the Ansible inventory generated from them. Pure Ruby (no Vagrant): the
# Vagrantfile requires it, the tests and ops/cluster-up run it.
#
#   ruby ops/cluster/inventory.rb          prints the inventory (what the Vagrantfile writes to
#                                          ops/cluster/.generated/inventory.ini)
#   ruby ops/cluster/inventory.rb --json   prints the resolved settings, the machines and the paths as JSON
#
# Settings come from ops/cluster/settings.yaml (the only place with defaults), each overridden by its RS_*
# environment variable (RS_WORKERS, RS_CPUS, RS_MEMORY_MB, RS_CONTROL_MEMORY_MB, RS_NETWORK_PREFIX,
# RS_PROVIDER). Invalid settings exit 1 with every problem listed on stderr; bad arguments exit 2.

require 'fileutils'
require 'ipaddr'
require 'json'
require 'pathname'
require 'shellwords'
require 'tempfile'
require 'yaml'

module RestaurantSentiment
  # The cluster of VMs: settings, machines and inventory.
  module Cluster
    # Raised with a message for people (every problem, one per line) when a setting or a pin is invalid.
    class SettingsError < StandardError; end

    # ops/cluster (this file's folder; Vagrant's project folder).
    CLUSTER_DIR = File.expand_path(__dir__)
    # The repository root.
    REPO_ROOT = File.expand_path('../..', CLUSTER_DIR)
    SETTINGS_PATH = File.join(CLUSTER_DIR, 'settings.yaml')
    # The one vars file with every version pin (owned by the Ansible side).
    VERSIONS_PATH = File.join(REPO_ROOT, 'ops', 'ansible', 'group_vars', 'all', 'versions.yml')
    # The cluster's Ansible variables: the pod and service networks (pod_cidr, service_cidr) come from here.
    CLUSTER_VARS_PATH = File.join(REPO_ROOT, 'ops', 'ansible', 'group_vars', 'all', 'cluster.yml')
    PLAYBOOK_PATH = File.join(REPO_ROOT, 'ops', 'ansible', 'cluster.yml')
    ANSIBLE_CONFIG_PATH = File.join(REPO_ROOT, 'ops', 'ansible', 'ansible.cfg')
    # Git-ignored folder of generated files.
    GENERATED_DIR = File.join(CLUSTER_DIR, '.generated')
    INVENTORY_PATH = File.join(GENERATED_DIR, 'inventory.ini')

    CONTROL_NAME = 'rs-control'
    WORKER_NAME_PREFIX = 'rs-worker-'
    # Last octet of the control plane's address; worker N gets CONTROL_HOST + N.
    CONTROL_HOST = 10
    # The default deployment (the chart with its canary and Istio sidecars, Istio, ingress-nginx,
    # kube-prometheus-stack, Kiali, the dashboard) does not fit on one 2-CPU worker, and the control plane keeps
    # its NoSchedule taint: at least two workers of at least MIN_WORKER_MEMORY_MB each.
    MIN_WORKERS = 2
    MAX_WORKERS = 9
    MIN_WORKER_MEMORY_MB = 3072
    PROVIDERS = %w[virtualbox libvirt].freeze
    # The network each provider gives every VM's first interface (NAT), by provider: [CIDR, its name]. The
    # host-only network must not overlap it. vagrant-libvirt's is its default management_network_address.
    PROVIDER_NETWORKS = {
      'virtualbox' => ['10.0.2.0/24', "VirtualBox's NAT network"],
      'libvirt' => ['192.168.121.0/24', "vagrant-libvirt's management network"]
    }.freeze
    # The user of the boxes; the key Vagrant inserts for it is per machine and per provider.
    SSH_USER = 'vagrant'

    # Resolved settings (all validated).
    # workers: worker VMs (2..9); cpus: vCPUs per VM; memory_mb: MiB per worker; control_memory_mb: MiB of the
    # control plane; network_prefix: "a.b.c" of the private /24; provider: "virtualbox" or "libvirt".
    Settings = Struct.new(:workers, :cpus, :memory_mb, :control_memory_mb, :network_prefix, :provider,
                          keyword_init: true)

    # One VM. group: the inventory group ("control_plane" or "workers"); ip: its host-only address;
    # memory_mb in MiB.
    Machine = Struct.new(:name, :group, :ip, :cpus, :memory_mb, keyword_init: true)

    OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
    PREFIX_PATTERN = /\A#{OCTET}\.#{OCTET}\.#{OCTET}\z/.freeze

    # Each setting: the environment variable overriding it, and its check (returns the value or nil).
    RULES = {
      'workers' => ['RS_WORKERS',
                    "an integer from #{MIN_WORKERS} to #{MAX_WORKERS} (the app, Istio and monitoring do not fit on " \
                    'one worker; the control plane runs no workloads)',
                    ->(v) { integer_in(v, MIN_WORKERS, MAX_WORKERS) }],
      'cpus' => ['RS_CPUS', 'an integer from 2 to 32 (kubeadm needs 2 CPUs)', ->(v) { integer_in(v, 2, 32) }],
      'memory_mb' => ['RS_MEMORY_MB',
                      "an integer from #{MIN_WORKER_MEMORY_MB} to 65536 (MiB; each worker runs a share of the app, " \
                      'Istio and monitoring)',
                      ->(v) { integer_in(v, MIN_WORKER_MEMORY_MB, 65_536) }],
      'control_memory_mb' => ['RS_CONTROL_MEMORY_MB', 'an integer from 2048 to 65536 (MiB; kubeadm needs 1700)',
                              ->(v) { integer_in(v, 2048, 65_536) }],
      'network_prefix' => ['RS_NETWORK_PREFIX',
                           'the first three octets of a private IPv4 network (10.x.x, 172.16-31.x or 192.168.x), ' \
                           'e.g. "192.168.56"',
                           ->(v) { private_prefix(v) }],
      'provider' => ['RS_PROVIDER', "one of #{PROVIDERS.join(', ')}", ->(v) { PROVIDERS.include?(v) ? v : nil }]
    }.freeze

    module_function

    # The integer in value (an Integer, or a String of decimal digits as environment variables give it) when it
    # lies in min..max, else nil. Floats, booleans, signs and blanks are not integers here.
    def integer_in(value, min, max)
      number = case value
               when Integer then value
               when String then value.match?(/\A[0-9]+\z/) ? Integer(value, 10) : nil
               end
      number && number >= min && number <= max ? number : nil
    end

    # value when it is "a.b.c" (decimal octets 0-255, no leading zeros) inside 10.0.0.0/8, 172.16.0.0/12 or
    # 192.168.0.0/16 (RFC 1918), else nil.
    def private_prefix(value)
      return nil unless value.is_a?(String) && value.match?(PREFIX_PATTERN)

      first, second = value.split('.').map(&:to_i)
      in_rfc1918 = first == 10 || (first == 172 && (16..31).cover?(second)) || (first == 192 && second == 168)
      in_rfc1918 ? value : nil
    end

    # path relative to the repository root, for messages.
    def display_path(path)
      Pathname.new(path).relative_path_from(Pathname.new(REPO_ROOT)).to_s
    end

    # The YAML mapping in path. Raises SettingsError when the file is missing, not YAML or not a mapping.
    def load_mapping(path, missing_hint)
      shown = display_path(path)
      raise SettingsError, "#{shown} not found: #{missing_hint}" unless File.file?(path)

      data = YAML.safe_load_file(path, aliases: true)
      raise SettingsError, "#{shown} must be a YAML mapping of settings" unless data.is_a?(Hash)

      data
    rescue Psych::SyntaxError => e
      raise SettingsError, "#{shown} is not valid YAML: #{[e.problem, e.context].compact.join(' ')} " \
                           "at line #{e.line} column #{e.column}"
    rescue Psych::Exception => e
      raise SettingsError, "#{shown} is not valid YAML for settings: #{e.message}"
    end

    # The resolved settings: settings.yaml (every key required, no unknown key), each key overridden by its
    # RS_* variable in env when that is set and not empty. Raises SettingsError listing every problem.
    def settings(env = ENV, path = SETTINGS_PATH)
      shown = display_path(path)
      file = load_mapping(path, "it holds the cluster settings (#{RULES.keys.join(', ')})")
      problems = (file.keys - RULES.keys).map do |key|
        "#{key}: unknown setting in #{shown} (known: #{RULES.keys.join(', ')})"
      end
      values = {}
      sources = {}
      RULES.each do |key, (variable, expected, check)|
        override = env[variable]
        if override && !override.empty?
          raw = override
          source = variable
        elsif file.key?(key)
          raw = file[key]
          source = shown
        else
          problems << "#{key}: missing from #{shown}"
          next
        end
        values[key.to_sym] = check.call(raw)
        sources[key.to_sym] = [raw, source]
        problems << "#{key} = #{raw.inspect} (from #{source}): must be #{expected}" if values[key.to_sym].nil?
      end
      problems.concat(network_overlaps(values, sources)) if values[:network_prefix]
      unless problems.empty?
        raise SettingsError, "Invalid cluster settings:\n#{problems.map { |p| "  - #{p}" }.join("\n")}"
      end

      Settings.new(**values)
    end

    # The cluster's own networks from cluster.yml (vars_path): [[IPAddr, what it is], ...] for pod_cidr and
    # service_cidr, which must be literal IPv4 CIDRs ("10.244.0.0/16"). Raises SettingsError otherwise.
    def cluster_networks(vars_path = CLUSTER_VARS_PATH)
      shown = display_path(vars_path)
      vars = load_mapping(vars_path, 'it defines the pod and service networks (pod_cidr, service_cidr)')
      { 'pod_cidr' => 'pod network', 'service_cidr' => 'service network' }.map do |key, what|
        value = vars[key]
        network = begin
          value.is_a?(String) && value.include?('/') ? IPAddr.new(value) : nil
        rescue IPAddr::Error
          nil
        end
        unless network&.ipv4?
          raise SettingsError, "#{key} = #{value.inspect} in #{shown}: must be an IPv4 network like \"10.244.0.0/16\""
        end

        [network, "the #{what} #{value} (#{key} in #{shown})"]
      end
    end

    # The problems of values[:network_prefix] (a valid "a.b.c") overlapping the pod or service network of
    # cluster.yml or the provider's NAT network (PROVIDER_NETWORKS, when values[:provider] is valid): one message
    # per overlap, naming the value's source from sources ({key => [raw, source]}). Raises SettingsError when
    # cluster.yml cannot be read.
    def network_overlaps(values, sources, vars_path = CLUSTER_VARS_PATH)
      host_only = IPAddr.new("#{values[:network_prefix]}.0/24")
      networks = cluster_networks(vars_path)
      nat = PROVIDER_NETWORKS[values[:provider]]
      networks << [IPAddr.new(nat[0]), "#{nat[1]} #{nat[0]} (every VM's first interface)"] if nat
      raw, source = sources.fetch(:network_prefix)
      networks.select { |network, _| network.include?(host_only) || host_only.include?(network) }.map do |_, what|
        "network_prefix = #{raw.inspect} (from #{source}): overlaps #{what}; choose another private /24, e.g. " \
          '"192.168.56"'
      end
    end

    # The box pinned in versions.yml: [name, version]. The version must be exact (digits and dots), not a
    # constraint. Raises SettingsError when the file or a key is missing or malformed.
    def box(path = VERSIONS_PATH)
      shown = display_path(path)
      pins = load_mapping(path, 'it pins the Vagrant box (vagrant_box, vagrant_box_version)')
      name = pins['vagrant_box']
      version = pins['vagrant_box_version']
      problems = []
      unless name.is_a?(String) && name.match?(%r{\A[\w.-]+/[\w.-]+\z})
        problems << "vagrant_box = #{name.inspect}: must be a box name like \"owner/name\""
      end
      unless version.is_a?(String) && version.match?(/\A[0-9]+(\.[0-9]+)*\z/)
        problems << "vagrant_box_version = #{version.inspect}: must be an exact version like \"1.2.3\" (a string)"
      end
      unless problems.empty?
        raise SettingsError, "Invalid box pin in #{shown}:\n#{problems.map { |p| "  - #{p}" }.join("\n")}"
      end

      [name, version]
    end

    # The VMs in boot order (control plane first, then workers 1..N): settings.workers + 1 machines.
    def machines(settings)
      control = Machine.new(name: CONTROL_NAME, group: 'control_plane',
                            ip: "#{settings.network_prefix}.#{CONTROL_HOST}",
                            cpus: settings.cpus, memory_mb: settings.control_memory_mb)
      workers = (1..settings.workers).map do |n|
        Machine.new(name: "#{WORKER_NAME_PREFIX}#{n}", group: 'workers',
                    ip: "#{settings.network_prefix}.#{CONTROL_HOST + n}",
                    cpus: settings.cpus, memory_mb: settings.memory_mb)
      end
      [control, *workers]
    end

    # Vagrant's data folder for this project: VAGRANT_DOTFILE_PATH (relative to ops/cluster) or ops/cluster/.vagrant.
    # Vagrant puts it next to the Vagrantfile it found, so use the Vagrantfile from ops/cluster (cd or VAGRANT_CWD).
    def vagrant_dotfile_dir(env = ENV)
      custom = env['VAGRANT_DOTFILE_PATH']
      custom && !custom.empty? ? File.expand_path(custom, CLUSTER_DIR) : File.join(CLUSTER_DIR, '.vagrant')
    end

    # The SSH key Vagrant inserts into machine (absolute path).
    def private_key_path(machine, settings, env = ENV)
      File.join(vagrant_dotfile_dir(env), 'machines', machine.name, settings.provider, 'private_key')
    end

    # The Ansible INI inventory: groups control_plane and workers, both children of cluster; per host its
    # address (ansible_host, node_ip) and key; the SSH user, Python and network prefix for the cluster.
    def inventory(settings, env = ENV)
      host_line = lambda do |machine|
        "#{machine.name} ansible_host=#{machine.ip} node_ip=#{machine.ip} " \
          "ansible_ssh_private_key_file=#{Shellwords.escape(private_key_path(machine, settings, env))}"
      end
      control, *workers = machines(settings)
      <<~INI
        # Generated by ops/cluster/Vagrantfile from settings.yaml; do not edit.
        [control_plane]
        #{host_line.call(control)}

        [workers]
        #{workers.map(&host_line).join("\n")}

        [cluster:children]
        control_plane
        workers

        [cluster:vars]
        ansible_user=#{SSH_USER}
        ansible_python_interpreter=/usr/bin/python3
        ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
        network_prefix=#{settings.network_prefix}
      INI
    end

    # Writes text to path atomically (a temporary file in the same folder renamed over it) unless the file
    # already holds exactly text. Returns true when it wrote.
    def write_atomically(path, text)
      return false if File.file?(path) && File.read(path) == text

      FileUtils.mkdir_p(File.dirname(path))
      Tempfile.create(['.inventory', '.tmp'], File.dirname(path)) do |file|
        file.write(text)
        file.flush
        file.fsync
        File.rename(file.path, path)
      end
      true
    end

    # Writes the inventory of settings to ops/cluster/.generated/inventory.ini (when it changed).
    def write_inventory(settings, env = ENV)
      write_atomically(INVENTORY_PATH, inventory(settings, env))
    end

    # The resolved settings as a Hash for JSON: the settings, the machines (name, group, ip, cpus, memory_mb)
    # and the paths of the generated inventory and of Vagrant's data folder.
    def resolved(settings, env = ENV)
      settings.to_h.transform_keys(&:to_s).merge(
        'machines' => machines(settings).map { |machine| machine.to_h.transform_keys(&:to_s) },
        'inventory_path' => INVENTORY_PATH,
        'vagrant_dotfile_path' => vagrant_dotfile_dir(env)
      )
    end

    USAGE = "Usage: ruby ops/cluster/inventory.rb [--json]\n" \
            "  prints the Ansible inventory of the cluster, or with --json the resolved settings\n"

    # Command line: returns the exit status (0 ok, 1 invalid settings, 2 bad arguments).
    def main(argv, env = ENV, out = $stdout, err = $stderr)
      if argv == ['--help'] || argv == ['-h']
        out.print USAGE
        return 0
      end
      unless argv.empty? || argv == ['--json']
        err.print "inventory.rb: unknown arguments #{argv.join(' ')}\n#{USAGE}"
        return 2
      end
      resolved_settings = settings(env)
      out.print(argv == ['--json'] ? "#{JSON.pretty_generate(resolved(resolved_settings, env))}\n" : inventory(resolved_settings, env))
      0
    rescue SettingsError => e
      err.puts e.message
      1
    end
  end
end

exit RestaurantSentiment::Cluster.main(ARGV) if $PROGRAM_NAME == __FILE__
