// tre-kit's JupyterLab extension: the project banner, the welcome page and "Run with provenance".
//
// Written by hand, with no build step: a module-federation container (what JupyterLab loads for
// a prebuilt extension: `_JUPYTERLAB[name]` with `init` and `get`) holding one plugin. It has no
// dependency of its own: Lumino's Widget and JupyterLab's notifications come from the shared
// scope JupyterLab hands to `init`. The server side is hub/lab.py (`tre/workspace`, `tre/run`);
// the menu and toolbar entries are in schemas/@tre-kit/workspace/plugin.json.
var _JUPYTERLAB;
(function () {
  "use strict";
  var NAME = "@tre-kit/workspace";
  var RUN = "tre:run-with-provenance";
  var WELCOME = "tre:open-welcome";
  var shareScope = {};

  function compareVersions(a, b) {
    var x = a.split(/[.-]/), y = b.split(/[.-]/);
    for (var i = 0; i < Math.max(x.length, y.length); i++) {
      var p = parseInt(x[i] || "0", 10), q = parseInt(y[i] || "0", 10);
      if (p !== q) return (isNaN(p) ? 0 : p) - (isNaN(q) ? 0 : q);
    }
    return 0;
  }

  // a module of JupyterLab's own (its newest shared version)
  function shared(pkg) {
    var versions = shareScope[pkg] || {};
    var keys = Object.keys(versions).sort(compareVersions);
    if (!keys.length) return Promise.reject(new Error(pkg + " is not shared by JupyterLab"));
    return Promise.resolve(versions[keys[keys.length - 1]].get()).then(function (factory) {
      return factory();
    });
  }

  function cookie(name) {
    var found = document.cookie.match("\\b" + name + "=([^;]*)\\b");
    return found ? decodeURIComponent(found[1]) : "";
  }

  // the Jupyter server's own API, signed in and XSRF-checked as JupyterLab's requests are
  function call(app, method, route, body) {
    var settings = app.serviceManager.serverSettings;
    var headers = { "Content-Type": "application/json", "X-XSRFToken": cookie("_xsrf") };
    if (settings.token) headers.Authorization = "token " + settings.token;
    return fetch(settings.baseUrl + route, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      return response.text().then(function (text) {
        var value;
        try {
          value = JSON.parse(text);
        } catch (e) {
          value = { error: text.slice(0, 300) || response.statusText };
        }
        if (!response.ok && !value.error) value.error = value.message || response.statusText;
        value.httpStatus = response.status;
        return value;
      });
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  var STYLE =
    ".tre-banner{display:flex;align-items:center;gap:12px;flex:1 1 auto;min-width:0;" +
    "padding:0 12px;font-size:var(--jp-ui-font-size1);color:var(--jp-ui-font-color1);" +
    "overflow:hidden;white-space:nowrap}" +
    ".tre-banner-project{font-weight:600;background:#1d70b8;color:#fff;padding:2px 8px;" +
    "border-radius:3px;max-width:24em;overflow:hidden;text-overflow:ellipsis;flex:0 0 auto}" +
    ".tre-banner-purpose{overflow:hidden;text-overflow:ellipsis;min-width:8em;flex:1 1 0}" +
    ".tre-banner-ends{font-weight:600;flex:0 0 auto}" +
    ".tre-banner a,.tre-banner button{color:var(--jp-content-link-color);background:none;" +
    "border:0;padding:0;font:inherit;cursor:pointer;text-decoration:underline}" +
    ".tre-banner-status{font-style:italic;flex:0 1 auto;min-width:0;max-width:28em;" +
    "overflow:hidden;text-overflow:ellipsis}";

  function makeBanner(lumino, app, facts, status) {
    var style = element("style");
    style.textContent = STYLE;
    document.head.appendChild(style);
    var banner = new lumino.Widget();
    banner.id = "tre-banner";
    banner.addClass("tre-banner");
    banner.node.setAttribute("role", "region");
    banner.node.setAttribute("aria-label", "Project");
    var project = element("span", "tre-banner-project", facts.title || facts.project);
    project.title = facts.title + " (project " + facts.project + ")";
    var purpose = element("span", "tre-banner-purpose", "Purpose: " + facts.purpose);
    purpose.title = facts.purpose;
    var ends = element("span", "tre-banner-ends", "Access ends " + facts.ends);
    var welcome = element("button", "tre-banner-welcome", "Welcome");
    welcome.type = "button";
    welcome.addEventListener("click", function () {
      app.commands.execute(WELCOME);
    });
    var pages = element("a", "tre-banner-pages", "tre pages");
    pages.href = facts.tre_url;
    pages.target = "_blank";
    pages.rel = "noopener";
    [project, purpose, ends, status, welcome, pages].forEach(function (node) {
      banner.node.appendChild(node);
    });
    app.shell.add(banner, "top", { rank: 1000 });
  }

  function notebookPath(app) {
    var widget = app.shell.currentWidget;
    var context = widget && widget.context;
    return context && /\.ipynb$/.test(context.path) ? context.path : null;
  }

  function runCurrent(app, apputils, facts, status) {
    var widget = app.shell.currentWidget;
    var path = notebookPath(app);
    if (!path) return Promise.resolve();
    var Notification = apputils && apputils.Notification;
    var starting = "Running " + path + " with provenance, in the project's sandbox\u2026";
    status.textContent = starting;
    var id = Notification ? Notification.emit(starting, "in-progress", { autoClose: false }) : null;
    var saved = widget.context.model.dirty ? widget.context.save() : Promise.resolve();
    return saved
      .then(function () {
        return call(app, "POST", "tre/run", { path: path });
      })
      .catch(function (error) {
        return { error: String(error) };
      })
      .then(function (answer) {
        var ok = answer.status === "succeeded";
        var message;
        if (answer.id) {
          var files = (answer.requestable || []).length;
          message = ok
            ? "Run " + answer.id + " of " + path + " succeeded: " + files +
              " file(s) may now be requested for release on the tre pages."
            : "Run " + answer.id + " of " + path + " failed: " + answer.error;
        } else {
          message = path + " was not run: " + answer.error;
        }
        status.textContent = message;
        status.title = message;
        var actions = [
          {
            label: "Open the tre pages",
            callback: function () {
              window.open(facts.tre_url, "_blank", "noopener");
            }
          }
        ];
        if (Notification) {
          Notification.update({
            id: id,
            message: message,
            type: ok ? "success" : "error",
            autoClose: false,
            actions: actions
          });
        }
        return answer;
      });
  }

  var plugin = {
    id: NAME + ":plugin",
    description: "The project banner, the welcome page and Run with provenance.",
    autoStart: true,
    activate: function (app) {
      var status = element("span", "tre-banner-status");
      status.id = "tre-run-status";
      var facts = { project: "", title: "", purpose: "", ends: "", tre_url: "/", welcome: "" };
      var apputils = null;
      app.commands.addCommand(WELCOME, {
        label: "Welcome to this workspace",
        caption: "Where the data is, how to save outputs, run with provenance and request a release",
        execute: function () {
          return app.commands.execute("docmanager:open", {
            path: facts.welcome,
            factory: "Markdown Preview"
          });
        }
      });
      app.commands.addCommand(RUN, {
        label: "Run with provenance",
        caption:
          "Run this notebook again through the kit's runner, in the project's sandbox, with its " +
          "provenance recorded: its outputs become requestable for release",
        isEnabled: function () {
          return !!notebookPath(app);
        },
        execute: function () {
          return runCurrent(app, apputils, facts, status);
        }
      });
      shared("@jupyterlab/apputils").then(
        function (module) {
          apputils = module;
        },
        function () {}
      );
      Promise.all([call(app, "GET", "tre/workspace"), shared("@lumino/widgets")]).then(
        function (found) {
          Object.assign(facts, found[0]);
          makeBanner(found[1], app, facts, status);
          return app.restored.then(function () {
            var key = "tre-welcome-shown-" + facts.project;
            if (!window.localStorage.getItem(key)) {
              window.localStorage.setItem(key, "1");
              return app.commands.execute(WELCOME);
            }
          });
        },
        function (error) {
          console.error("tre-kit: the workspace banner could not be made", error);
        }
      );
    }
  };

  _JUPYTERLAB = _JUPYTERLAB || {};
  _JUPYTERLAB[NAME] = {
    init: function (scope) {
      shareScope = scope || {};
    },
    get: function (module) {
      if (module !== "./extension") {
        return Promise.reject(new Error(NAME + " has no module " + module));
      }
      return Promise.resolve(function () {
        return { __esModule: true, default: [plugin] };
      });
    }
  };
})();
