# frozen_string_literal: true

# Loads the Vagrantfile of the current folder through Vagrant's own library (no provider needed) and prints, as
# JSON, what each machine gets: box, hostname, private-network addresses, synced folders, VirtualBox settings and
# provisioners. For ops/cluster/test/vagrant.test.ts: `ruby vagrant-config.rb` run in a copy of ops/cluster.

require 'json'
require 'vagrant'

env = Vagrant::Environment.new(cwd: Dir.pwd, ui_class: Vagrant::UI::Silent)
machines = env.machine_names.map do |name|
  config = env.vagrantfile.machine_config(name, :virtualbox, env.boxes, nil, false)[:config]
  virtualbox = config.vm.get_provider_config(:virtualbox)
  {
    'name' => name.to_s,
    'box' => config.vm.box,
    'box_version' => config.vm.box_version,
    'box_check_update' => config.vm.box_check_update,
    'hostname' => config.vm.hostname,
    'private_networks' => config.vm.networks.select { |type, _| type == :private_network }.map { |_, o| o[:ip] },
    'synced_folders' => config.vm.synced_folders.transform_values { |o| { 'disabled' => o[:disabled] == true } },
    # cpus= and memory= of VirtualBox's config become `modifyvm` customizations.
    'virtualbox' => {
      'customizations' => virtualbox.customizations.map { |event, command| [event, command.map(&:to_s)] },
      'linked_clone' => virtualbox.linked_clone
    },
    'providers' => config.vm.__providers.map(&:to_s),
    'provisioners' => config.vm.provisioners.map do |provisioner|
      options = provisioner.config
      {
        'type' => provisioner.type.to_s,
        'compatibility_mode' => options.compatibility_mode,
        'playbook' => options.playbook,
        'config_file' => options.config_file,
        'inventory_path' => options.inventory_path,
        'limit' => options.limit
      }
    end
  }
end
puts JSON.pretty_generate('machines' => machines, 'VAGRANT_NO_PARALLEL' => ENV['VAGRANT_NO_PARALLEL'])
