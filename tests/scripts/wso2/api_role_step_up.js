// Role-based step-up (roles of the application's audience, checked with hasAnyOfTheRolesV2).
// Users holding one of the listed roles must also pass the second factor; everyone else signs in
// with the first step alone.
var rolesToStepUp = ['admin', 'manager'];

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            if (hasAnyOfTheRolesV2(context, rolesToStepUp)) {
                Log.info(context.currentKnownSubject.username + ' holds a role that needs a second factor.');
                executeStep(2);
            }
        }
    });
};
