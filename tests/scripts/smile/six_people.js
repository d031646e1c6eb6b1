// onSmartLoginPreContextSelection offering six people, each with its own scope changes.
function onSmartLoginPreContextSelection(theUserSession, theContextSelectionChoices) {
   var people = [
      ['Homer', '1950-01-12', '111'], ['Marge', '1954-06-22', '222'], ['Bart', '1979-12-17', '333'],
      ['Lisa', '1981-05-09', '444'], ['Maggie', '1989-01-14', '555'], ['Herb', '1948-01-12', '123']
   ];
   var added = [];
   people.forEach(function (p) {
      var person = theContextSelectionChoices.addPerson();
      person.familyName = 'Simpson';
      person.givenName = p[0];
      person.birthDate = p[1];
      person.associatedPatientContextResourceId = 'context-patient-id-' + p[2];
      person.addAuthority('FHIR_READ_ALL_IN_COMPARTMENT', 'Patient/' + person.associatedPatientContextResourceId);
      added.push(person);
   });
   added[1].addAutoGrantScopes('openid');
   added[1].addRequestedScopes('launch profile patient/*.read system/Patient.read');
   added[2].removeRequestedScopes('patient/*.read profile');
   added[3].addAutoGrantScopes('patient/*.write system/Patient.read');
   added[3].removeAutoGrantScopes('patient/*.write');
   added[4].addRequestedScopes('launch profile patient/*.read system/Patient.read patient/Observation.read');
   added[4].removeRequestedScopes('system/Patient.read');
   added[4].addAutoGrantScopes('system/Observation.read patient/*.write');
   added[4].removeAutoGrantScopes('patient/*.write');
   added[5].addRequestedScopes('launch profile patient/*.read system/Patient.read patient/Observation.read');
   theContextSelectionChoices.addDisplayTranslation('system/Patient.read', 'Custom Display');
   Log.info('offered ' + added.length + ' people to ' + theUserSession.username);
}
